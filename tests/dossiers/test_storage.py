"""Names of stored documents as shown back to users."""

from __future__ import annotations

from app.dossiers.storage import MAX_FILENAME, display_name


def test_display_names_keep_only_a_printable_base_name() -> None:
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("to\x00khai\n.pdf") == "tokhai.pdf"
    assert display_name(None) == "document"
    assert display_name("\x00") == "document"


def test_an_over_long_name_keeps_its_extension() -> None:
    name = display_name("giấy tờ " * 60 + ".pdf")
    assert len(name) == MAX_FILENAME
    assert name.endswith(".pdf")
