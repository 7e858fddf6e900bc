from __future__ import annotations

import io

from regcopy.copy.engine import Event
from regcopy.copy.models import JobOutcome
from regcopy.progress import LineProgress, human_bytes, human_seconds


def outcome(status: str) -> JobOutcome:
    return JobOutcome(source="a", destination="b", status=status)  # type: ignore[arg-type]


def test_line_progress_reports_counts_bytes_and_eta() -> None:
    stream = io.StringIO()
    view = LineProgress(stream)
    view.handle(Event("planned", total=4))
    view.handle(Event("finished", outcome=outcome("copied")))
    view.handle(Event("finished", outcome=outcome("failed")))
    view.handle(Event("bytes", nbytes=2_500_000))
    view.tick()
    view.tick()  # nothing changed: no second line
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("progress: 2/4 jobs (copied 1, skipped 0, failed 1), 2.5 MB uploaded,")
    assert "ETA" in lines[0]


def test_human_units() -> None:
    assert human_bytes(999) == "999 B" and human_bytes(1_500_000_000) == "1.5 GB"
    assert human_seconds(59) == "59s" and human_seconds(61) == "1m01s" and human_seconds(7260) == "2h01m"
