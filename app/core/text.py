"""Text folding for search: Vietnamese users often type without diacritics."""

from __future__ import annotations

import unicodedata

# đ/Đ is a letter of its own, not d with a combining mark, so NFD leaves it alone.
_EXTRA = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str) -> str:
    """Lower-case, diacritics-free, single-spaced: "Đăng ký  khai sinh" -> "dang ky khai sinh"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())
