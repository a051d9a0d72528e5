"""Deterministic citizen and business accounts for national-scale seeding.

Account number i maps to one identifier and one name, so the same seed always gives the same
accounts and a re-run inserts nothing new. Generation is arithmetic on i rather than a random
draw per row: millions of rows must come out in seconds.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from app.accounts.identifiers import LEGACY_PROVINCE_CODES

SURNAMES = (
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Trịnh Đoàn "
    "Lâm Mai Trương Tạ Cao Lương Hà Kiều Chu Quách Thái".split()
)
MIDDLE_NAMES = "Văn Thị Hữu Đức Minh Ngọc Thanh Quốc Xuân Thu Gia Kim Bảo Hoài Phương".split()
GIVEN_NAMES = (
    "An Anh Bình Châu Chi Cường Dũng Dung Giang Hà Hải Hạnh Hiếu Hoa Hòa Hùng Hương Huy Khánh "
    "Khoa Lan Linh Long Mai Minh My Nam Nga Ngân Nhung Phong Phúc Quân Quang Quyên Sơn Tâm "
    "Thảo Thắng Thu Thủy Trang Trung Tú Tuấn Uyên Vân Việt Vy Xuân Yến".split()
)
COMPANY_FORMS = ["Công ty TNHH", "Công ty Cổ phần", "Doanh nghiệp tư nhân", "Hợp tác xã"]
COMPANY_TRADES = [
    "Thương mại",
    "Dịch vụ",
    "Xây dựng",
    "Vận tải",
    "Nông sản",
    "Công nghệ",
    "Du lịch",
    "Thực phẩm",
    "Cơ khí",
    "Dệt may",
    "Đầu tư Phát triển",
    "Xuất nhập khẩu",
    "Môi trường",
    "Giáo dục",
]
# One account in BUSINESS_EVERY is a business with a tax code; the rest are citizens.
BUSINESS_EVERY = 10
_PROVINCES = sorted(LEGACY_PROVINCE_CODES)


def _mix(i: int) -> int:
    # Knuth's multiplicative hash spreads neighbouring numbers over the name tables.
    return (i * 2_654_435_761) & 0xFFFFFFFF


def account_rows(
    start: int, stop: int, *, seed: int, created_at: datetime
) -> Iterator[tuple[Any, ...]]:
    """Rows (kind, identifier, full_name, phone, email, created_at) for accounts [start, stop)."""
    rng = random.Random(seed)
    surnames = rng.sample(SURNAMES, len(SURNAMES))
    middles = rng.sample(MIDDLE_NAMES, len(MIDDLE_NAMES))
    givens = rng.sample(GIVEN_NAMES, len(GIVEN_NAMES))
    trades = rng.sample(COMPANY_TRADES, len(COMPANY_TRADES))
    for i in range(start, stop):
        h = _mix(i + seed)
        phone = f"09{h % 100_000_000:08d}"
        if i % BUSINESS_EVERY == BUSINESS_EVERY - 1:
            name = (
                f"{COMPANY_FORMS[h % len(COMPANY_FORMS)]} {trades[(h >> 4) % len(trades)]} "
                f"{surnames[(h >> 12) % len(surnames)]} {givens[(h >> 20) % len(givens)]}"
            )
            yield ("business", f"01{i // BUSINESS_EVERY:08d}", name, phone, None, created_at)
            continue
        # Province, birth year and serial are digits of i in mixed radix: distinct i, distinct PIN.
        province, rest = _PROVINCES[i % 63], i // 63
        year, serial = rest % 100, rest // 100
        female = (h >> 3) & 1
        century = 2 if year <= 8 else 0
        identifier = f"{province}{century + female}{year:02d}{serial:06d}"
        middle = "Thị" if female else middles[(h >> 8) % len(middles)]
        name = f"{surnames[(h >> 12) % len(surnames)]} {middle} {givens[(h >> 20) % len(givens)]}"
        yield ("citizen", identifier, name, phone, None, created_at)
