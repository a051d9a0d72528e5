"""What a request body may hold, checked on its bytes before a parser reads it (pure; the body
guard in guards.py feeds it): JSON nested no deeper than a limit, and form text that decodes as
it declares.

Why forms need this: Starlette decodes a multipart part's name, filename or text that is not
valid in the form's charset as Latin-1, and reads urlencoded forms as Latin-1 with undecodable
escapes replaced by U+FFFD: text changed silently, where invalid JSON text is refused.
"""

from __future__ import annotations

import codecs
import re
from urllib.parse import unquote_to_bytes

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from app.core.errors import InvalidText, UnsupportedMediaType

# A JSON string: quotes around runs of anything but quotes and backslashes, and escapes
# (written unrolled, so that a long string costs one scan).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_ONE_KIND = bytes.maketrans(b"{}", b"[]")


def json_deeper_than(body: bytes, limit: int) -> bool:
    """Whether JSON text nests arrays and objects more than `limit` deep, found without parsing
    it (parsers recurse once per level). Strings are cut out, and each pass removes the
    innermost pairs of brackets, so a pair left after `limit` passes lies deeper than `limit`.
    Text that is not JSON may be answered either way: its parser refuses it."""
    brackets = _JSON_STRING.sub(b"", body).translate(_ONE_KIND, delete=_NOT_BRACKETS)
    for _ in range(limit):
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):
            return False  # no pair left (what remains does not balance: not JSON)
        brackets = inner
    return b"[]" in brackets


def form_charset(content_type: str) -> str:
    """The codec a form's text is decoded with: its declared charset, UTF-8 by default."""
    _, params = parse_options_header(content_type)
    declared = params.get(b"charset", b"utf-8").decode("latin-1")
    try:
        return codecs.lookup(declared).name
    except LookupError:
        raise UnsupportedMediaType(
            f"the form's charset {declared!r} is unknown: send it in UTF-8", field="body"
        ) from None


def _decode(raw: bytes, charset: str) -> str | None:
    try:
        return raw.decode(charset)
    except UnicodeDecodeError:
        return None


class MultipartTextCheck:
    """Follows a multipart body as it streams by, chunk after chunk, checking that each part's
    name and filename, and each text field's value, decode in the form's charset. File
    contents are only skipped over. A body the multipart parser cannot follow is left to the
    app's own parser, which refuses it. The first problem found is `problem`."""

    def __init__(self, content_type: str) -> None:
        self.charset = form_charset(content_type)
        self.problem: InvalidText | None = None
        boundary = parse_options_header(content_type)[1].get(b"boundary")
        self._parser: MultipartParser | None = None
        if boundary:
            self._parser = MultipartParser(
                boundary,
                {
                    "on_part_begin": self._on_part_begin,
                    "on_header_field": self._on_header_field,
                    "on_header_value": self._on_header_value,
                    "on_header_end": self._on_header_end,
                    "on_headers_finished": self._on_headers_finished,
                    "on_part_data": self._on_part_data,
                    "on_part_end": self._on_part_end,
                },
            )
        self._on_part_begin()

    def feed(self, chunk: bytes, *, last: bool = False) -> None:
        if self._parser is None or self.problem is not None:
            return
        try:
            self._parser.write(chunk)
            if last:
                self._parser.finalize()
        except FormParserError:
            self._parser = None

    def _on_part_begin(self) -> None:
        self._header = b""
        self._value = b""
        self._disposition = b""
        self._field = "body"
        # Decodes a text field as it arrives, so that nothing of it is held here.
        self._text: codecs.IncrementalDecoder | None = None

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _on_header_end(self) -> None:
        if self._header.strip().lower() == b"content-disposition":
            self._disposition = self._value
        self._header = self._value = b""

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = _decode(options.get(b"name", b""), self.charset)
        if name is None:
            self._refuse(f"the name of a part is not valid {self.charset.upper()}", "body")
            return
        self._field = name or "body"
        if b"filename" in options:
            if _decode(options[b"filename"], self.charset) is None:
                self._refuse(
                    f"the file name of a part of {name} is not valid {self.charset.upper()}"
                )
        else:
            self._text = codecs.getincrementaldecoder(self.charset)(errors="strict")

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._text is not None:
            self._check_text(data[start:end], final=False)

    def _on_part_end(self) -> None:
        if self._text is not None:
            self._check_text(b"", final=True)

    def _check_text(self, data: bytes, *, final: bool) -> None:
        assert self._text is not None
        try:
            self._text.decode(data, final=final)
        except UnicodeDecodeError:
            self._text = None
            self._refuse(f"{self._field} is not valid {self.charset.upper()} text")

    def _refuse(self, detail: str, field: str | None = None) -> None:
        if self.problem is None:
            self.problem = InvalidText(detail, field=field or self._field)


def urlencoded_text_problem(body: bytes) -> InvalidText | None:
    """The first field of an urlencoded form whose text would not be read as sent: raw
    non-ASCII bytes (the form's parser takes them for Latin-1), or escapes that do not decode
    as UTF-8 (it replaces them)."""
    for pair in body.split(b"&"):
        raw_name, _, raw_value = pair.partition(b"=")
        name = _unquote(raw_name) if raw_name.isascii() else None
        if name is None:
            return InvalidText(
                "the name of a form field is not percent-encoded UTF-8", field="body"
            )
        field = name or "body"
        if not raw_value.isascii():
            return InvalidText(
                f"{field}: non-ASCII text in a urlencoded form must be percent-encoded "
                "(curl --data-urlencode)",
                field=field,
            )
        if _unquote(raw_value) is None:
            return InvalidText(f"{field} is not valid UTF-8 once percent-decoded", field=field)
    return None


def _unquote(raw: bytes) -> str | None:
    return _decode(unquote_to_bytes(raw.replace(b"+", b" ")), "utf-8")
