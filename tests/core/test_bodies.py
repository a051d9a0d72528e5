"""The body checks on bytes (app/core/bodies.py), exhaustively: JSON depth against a parse, and
form text split anywhere across chunks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.bodies import (
    MultipartTextCheck,
    form_charset,
    json_deeper_than,
    urlencoded_text_problem,
)
from app.core.errors import UnsupportedMediaType


def depth(value: Any) -> int:
    """Containers nested in a parsed JSON value (a scalar is 0 deep)."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level + 1)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, level + 1) for child in children)
    return deepest


# Strings full of what a naive bracket count would trip on.
tricky_text = st.text(alphabet='[]{}"\\,:/ aĐ\n\u2028', max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | tricky_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=4)
    ),
    max_leaves=40,
)


@settings(max_examples=400)
@given(
    value=json_values,
    limit=st.integers(min_value=0, max_value=12),
    ascii_only=st.booleans(),
    indent=st.sampled_from([None, 2]),
)
def test_depth_found_on_bytes_matches_the_parsed_depth(
    value: Any, limit: int, ascii_only: bool, indent: int | None
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent).encode()
    assert json_deeper_than(text, limit) == (depth(value) > limit)


@pytest.mark.parametrize("levels", [1, 31, 32, 33, 1_000, 200_000])
def test_depth_of_plain_nesting(levels: int) -> None:
    body = b"[" * levels + b"]" * levels
    assert json_deeper_than(body, 32) == (levels > 32)


def test_text_that_does_not_balance_is_left_to_the_parser() -> None:
    # Not JSON at all: the parser refuses these with their position.
    for body in (b"[" * 100, b"]" * 100, b"[1,", b'{"a": "unterminated [[[[[[['):
        assert not json_deeper_than(body, 32)


def multipart(*parts: bytes) -> bytes:
    return b"".join(b"--B\r\n" + part + b"\r\n" for part in parts) + b"--B--\r\n"


def check(body: bytes, chunk: int, content_type: str = "multipart/form-data; boundary=B") -> Any:
    checker = MultipartTextCheck(content_type)
    pieces = [body[at : at + chunk] for at in range(0, len(body), chunk)]
    for index, piece in enumerate(pieces):
        checker.feed(piece, last=index == len(pieces) - 1)
    return checker.problem


NOTE = "Đã bổ sung ".encode()
TEXT_PART = b'Content-Disposition: form-data; name="note"\r\n\r\n' + NOTE
FILE_PART = (
    b'Content-Disposition: form-data; name="files"; filename="gi\xe1\xba\xa5y.pdf"\r\n'
    b"Content-Type: application/pdf\r\n\r\n%PDF-\xff\xfe binary"
)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
def test_valid_text_passes_however_it_is_split(chunk: int) -> None:
    assert check(multipart(TEXT_PART, FILE_PART), chunk) is None


@pytest.mark.parametrize("chunk", [1, 5, 1 << 20])
@pytest.mark.parametrize(
    ("part", "field"),
    [
        (TEXT_PART + b"\xc3", "note"),  # cut short inside a character
        (TEXT_PART.replace(b"\xc4\x90", b"\xc4"), "note"),
        (FILE_PART.replace(b"\xe1\xba\xa5", b"\xe1"), "files"),
        (TEXT_PART.replace(b'"note"', b'"n\xf4te"'), "body"),
    ],
)
def test_invalid_text_is_found_however_it_is_split(chunk: int, part: bytes, field: str) -> None:
    problem = check(multipart(FILE_PART, part), chunk)
    assert problem is not None
    assert problem.field == field


def test_a_declared_charset_is_decoded_with() -> None:
    latin = b'Content-Disposition: form-data; name="note"\r\n\r\nd\xe9j\xe0'
    assert check(multipart(latin), 3) is not None
    assert check(multipart(latin), 3, "multipart/form-data; boundary=B; charset=latin-1") is None


def test_an_unknown_charset_is_unsupported() -> None:
    with pytest.raises(UnsupportedMediaType):
        form_charset("multipart/form-data; boundary=B; charset=no-such-codec")


def test_a_body_the_parser_cannot_follow_is_left_to_the_app() -> None:
    assert check(b"not multipart at all \xff", 4) is None
    assert check(multipart(TEXT_PART), 4, "multipart/form-data") is None  # no boundary


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"note=%C4%90%C3%A3+g%E1%BB%ADi", None),
        (b"a=1&b=&&c", None),
        (b"note=%FF", "note"),
        ("note=Đã".encode(), "note"),
        (b"n%FFte=1", "body"),
        (b"ok=1&note=%C4", "note"),
    ],
)
def test_urlencoded_text(body: bytes, field: str | None) -> None:
    problem = urlencoded_text_problem(body)
    assert (problem.field if problem else None) == field
