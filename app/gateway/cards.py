"""The payer simulation's test cards, in the spirit of GOV.UK Pay's: each number always gives
the same outcome. Pure data, no I/O.

| card number           | outcome                                          | status |
|-----------------------|--------------------------------------------------|--------|
| 9704198526191432198   | 00 success (the VNPay sandbox NCB card)          | 00     |
| 9704000000000007      | 07 money taken, transaction suspected            | 07     |
| 9704000000000009      | 09 card not registered for internet banking      | 02     |
| 9704000000000010      | 10 card authentication failed more than 3 times  | 02     |
| 9704000000000011      | 11 payment window expired                        | 02     |
| 9704000000000024      | 24 cancelled by the payer                        | 02     |
| 9704000000000051      | 51 insufficient funds                            | 02     |
| 9704000000000065      | 65 over the daily limit                          | 02     |
| 9704000000000075      | 75 bank under maintenance                        | 02     |
| 9704000000000099      | 99 other error                                   | 02     |

Besides a card, a payer may give an outcome: `success`, `cancel` (24), `abandon` (nothing
happens: the transaction stays pending and expires), or any response code above.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core import vnpay

SUCCESS_CARD = "9704198526191432198"
BANK_CODE = "NCB"
CARD_TYPE = "ATM"
ABANDON = "abandon"


@dataclass(frozen=True)
class Card:
    number: str
    response_code: str

    @property
    def description(self) -> str:
        return vnpay.PAYMENT_RESPONSES[self.response_code]


TEST_CARDS: tuple[Card, ...] = (
    Card(SUCCESS_CARD, "00"),
    *(
        Card(f"97040000000000{code}", code)
        for code in ("07", "09", "10", "11", "24", "51", "65", "75", "99")
    ),
)
CARDS_BY_NUMBER = {card.number: card for card in TEST_CARDS}
OUTCOMES = {"success": "00", "cancel": "24"}


class UnknownCard(ValueError):
    pass


def response_code_for(*, card: str | None, outcome: str | None) -> str | None:
    """The response code a card or an outcome gives; None for `abandon`."""
    if card:
        found = CARDS_BY_NUMBER.get(card.replace(" ", ""))
        if found is None:
            raise UnknownCard(f"{card!r} is not a test card")
        return found.response_code
    if outcome == ABANDON:
        return None
    if outcome in OUTCOMES:
        return OUTCOMES[outcome]
    if outcome in vnpay.PAYMENT_RESPONSES:
        return outcome
    raise UnknownCard(
        f"give a test card or an outcome: success, cancel, abandon or a response code "
        f"({', '.join(vnpay.PAYMENT_RESPONSES)})"
    )


def transaction_status(response_code: str) -> vnpay.TransactionStatus:
    if response_code == "00":
        return vnpay.TransactionStatus.SUCCESS
    if response_code == "07":
        return vnpay.TransactionStatus.SUSPECTED
    return vnpay.TransactionStatus.FAILED
