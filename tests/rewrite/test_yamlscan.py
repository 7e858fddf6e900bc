"""The scanner on its own: spans point at exactly the value's characters, and no input raises anything unexpected."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from regcopy.rewrite.yamlscan import ImageParts, ImageString, NotYAML, scan


def test_spans_cover_exactly_the_values() -> None:
    text = (
        "a: &x ccr.example.com/a:1\n"
        "b: *x\n"
        "c: {image: 'q.example.com/c:2', other: 1}\n"
        'image: "top.example.com/t:3"  # comment\n'
        "d:\n  image:\n    registry: r.example.com\n    repository: team/d\n    tag: '4'\n"
        "e:\n  image: |\n    block.example.com/e:5\n"
        "f:\n  image: !!str tagged.example.com/f:6\n"
    )
    found = scan(text).images
    values = sorted(f.value for f in found if isinstance(f, ImageString))
    assert values == ["q.example.com/c:2", "tagged.example.com/f:6", "top.example.com/t:3"]  # not the block scalar
    for item in found:
        if isinstance(item, ImageString):
            assert text[item.span.start : item.span.end] == item.value
    (parts,) = [f for f in found if isinstance(f, ImageParts)]
    assert parts.registry is not None and parts.tag is not None
    for value, span in (parts.repository, parts.registry, parts.tag):
        assert text[span.start : span.end] == value
    assert parts.tag[1].quote == "'"


def test_documents_and_secrets() -> None:
    text = (
        "kind: A\nimage: one.example.com/a:1\n---\n"
        "imagePullSecrets:\n- name: s1\n- s2\ncontainers:\n- image: two.example.com/b:2\n"
    )
    result = scan(text)
    assert [i.value for i in result.images if isinstance(i, ImageString)] == [
        "one.example.com/a:1",
        "two.example.com/b:2",
    ]
    (secrets,) = result.secrets
    assert [n for n, _ in secrets.names] == ["s1", "s2"]
    assert [i.value for i in secrets.images] == ["two.example.com/b:2"]


yaml_ish = st.text(alphabet=st.sampled_from(list("image: -[]{}&*!'\"#|>\n\t ab/.:@0")), max_size=200)


@settings(max_examples=400, deadline=None)
@given(yaml_ish)
def test_any_text_scans_or_is_not_yaml(text: str) -> None:
    try:
        result = scan(text)
    except NotYAML:
        return
    for item in result.images:
        if isinstance(item, ImageString):
            assert text[item.span.start : item.span.end] == item.value or item.span.quote == '"'
