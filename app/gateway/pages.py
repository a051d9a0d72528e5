"""The payer's HTML pages: small, plain, Vietnamese labels, no script."""

from __future__ import annotations

from html import escape

from app.core import vnpay
from app.gateway.cards import ABANDON, TEST_CARDS
from app.gateway.models import GatewayTransaction

_STYLE = (
    "body{font-family:sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;"
    "text-align:left}form{display:inline}button{margin:.2rem}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def _vnd(amount_x100: int) -> str:
    return f"{amount_x100 // 100:,}".replace(",", ".") + " ₫"


def payment_page(transaction: GatewayTransaction) -> str:
    action = f"/paymentv2/pay/{escape(transaction.transaction_no or '')}"
    rows = "".join(
        f"<tr><td><code>{card.number}</code></td><td>{card.response_code}</td>"
        f"<td>{escape(card.description)}</td><td>"
        f'<form method="post" action="{action}"><input type="hidden" name="card" '
        f'value="{card.number}"><button type="submit">Thanh toán</button></form></td></tr>'
        for card in TEST_CARDS
    )
    outcomes = "".join(
        f'<form method="post" action="{action}"><input type="hidden" name="outcome" '
        f'value="{value}"><button type="submit">{escape(label)}</button></form>'
        for value, label in (
            ("success", "Thanh toán thành công"),
            ("cancel", "Hủy giao dịch"),
            (ABANDON, "Bỏ dở (không làm gì)"),
        )
    )
    body = (
        "<p>Cổng thanh toán giả lập (VNPay 2.1.0) — chỉ dùng để thử nghiệm.</p>"
        "<table>"
        f"<tr><th>Đơn vị chấp nhận thanh toán</th><td>{escape(transaction.tmn_code)}</td></tr>"
        f"<tr><th>Mã đơn hàng</th><td>{escape(transaction.txn_ref)}</td></tr>"
        f"<tr><th>Mã giao dịch</th><td>{escape(transaction.transaction_no or '')}</td></tr>"
        f"<tr><th>Nội dung</th><td>{escape(transaction.order_info)}</td></tr>"
        f"<tr><th>Số tiền</th><td>{_vnd(transaction.amount)}</td></tr>"
        f"<tr><th>Hết hạn lúc</th><td>{escape(transaction.expire_date)} (GMT+7)</td></tr>"
        "</table><h2>Thẻ thử nghiệm</h2>"
        "<table><tr><th>Số thẻ</th><th>Mã</th><th>Kết quả</th><th></th></tr>"
        f"{rows}</table><h2>Hoặc chọn kết quả</h2><p>{outcomes}</p>"
    )
    return _page("Thanh toán trực tuyến", body)


def error_page(code: str, message: str) -> str:
    described = vnpay.PAYMENT_RESPONSES.get(code, "")
    body = f'<p>Mã lỗi: <strong id="code">{escape(code)}</strong></p><p>{escape(message)}</p>' + (
        f"<p>{escape(described)}</p>" if described and described != message else ""
    )
    return _page("Giao dịch không thành công", body)


def abandoned_page(transaction: GatewayTransaction) -> str:
    body = (
        f"<p>Giao dịch {escape(transaction.transaction_no or '')} vẫn đang chờ thanh toán "
        f"đến {escape(transaction.expire_date)} (GMT+7).</p>"
    )
    return _page("Đã rời trang thanh toán", body)
