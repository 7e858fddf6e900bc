from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from regcopy.registry_v2.headers import parse_link_next, parse_www_authenticate


def test_bearer_challenge() -> None:
    [challenge] = parse_www_authenticate(
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",'
        'scope="repository:samalba/my-app:pull,push"'
    )
    assert challenge.scheme == "bearer"
    assert challenge.realm == "https://auth.example.com/token"
    assert challenge.params["scope"] == "repository:samalba/my-app:pull,push"


def test_several_challenges_and_escapes() -> None:
    challenges = parse_www_authenticate('Basic realm="a \\"quoted\\" realm", Bearer realm=http://x/t,service=s')
    assert [c.scheme for c in challenges] == ["basic", "bearer"]
    assert challenges[0].realm == 'a "quoted" realm'
    assert challenges[1].params == {"realm": "http://x/t", "service": "s"}


def test_link_next() -> None:
    assert parse_link_next('</v2/_catalog?last=b&n=2>; rel="next"') == "/v2/_catalog?last=b&n=2"
    assert parse_link_next("<https://h/v2/x/tags/list?last=9>;rel=next") == "https://h/v2/x/tags/list?last=9"
    assert parse_link_next('</a>; rel="prev", </b>; rel="next"') == "/b"
    assert parse_link_next('</a>; rel="prev"') is None
    assert parse_link_next(None) is None


@given(st.text(max_size=500))
def test_header_parsers_never_raise(value: str) -> None:
    for challenge in parse_www_authenticate(value):
        assert challenge.scheme == challenge.scheme.lower()
    parse_link_next(value)
