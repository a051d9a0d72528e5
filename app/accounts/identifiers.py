"""Shapes of the identifiers a log-in carries.

A personal identification number (số định danh cá nhân, Circular 59/2021/TT-BCA) has 12 digits:
the 3-digit code of the province where the birth was registered, a digit for century and sex,
two digits of the birth year, and 6 random digits. The province codes are those of the 63
provinces before the 2025 merger (numbers issued earlier keep them); the `vietnam-provinces`
release that runs on Python 3.11 ships only the 34 new provinces, so the list is kept here.
"""

from __future__ import annotations

import re
from enum import StrEnum


class AccountKind(StrEnum):
    CITIZEN = "citizen"
    BUSINESS = "business"


LEGACY_PROVINCE_CODES: frozenset[str] = frozenset(
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 "
    "035 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 "
    "070 072 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096".split()
)
assert len(LEGACY_PROVINCE_CODES) == 63

_PIN = re.compile(r"[0-9]{12}")
# A business's tax code: 10 digits, or 10-3 for a dependent unit (Circular 105/2020/TT-BTC).
_TAX_CODE = re.compile(r"[0-9]{10}(-[0-9]{3})?")


def identifier_problem(kind: AccountKind, identifier: str) -> str | None:
    """Why `identifier` is not a valid identifier of that kind, or None if it is."""
    if kind == AccountKind.CITIZEN:
        if not _PIN.fullmatch(identifier):
            return "a personal identification number has exactly 12 digits"
        if identifier[:3] not in LEGACY_PROVINCE_CODES:
            return f"{identifier[:3]!r} is not a province code of a personal identification number"
        return None
    if not _TAX_CODE.fullmatch(identifier):
        return "a tax code has 10 digits, or 10 digits, a dash and 3 digits"
    return None
