"""The payer: pays a dossier's fees on the mock VNPay gateway with its test cards (and, when the
workload says so, with the gateway's fault knobs), then waits for the portal to confirm."""

from __future__ import annotations

import time
from typing import Any

from pydantic import TypeAdapter

from app.payments.schemas import PaymentOut
from loadtest.drive.engine import Task
from loadtest.drive.runtime import this_process
from loadtest.drive.users.base import Rejected
from loadtest.drive.users.citizen import CitizenSession

PAYMENTS = TypeAdapter(list[PaymentOut])
SUCCESS_CARD = "9704198526191432198"
DECLINE_CARD = "9704000000000051"  # 51: insufficient funds


class Payer(CitizenSession):
    actor = "payer"

    def on_pay(self, current: Task) -> None:
        sim, rules = self.sim, self.sim.workload.payments
        record = sim.ledger[current.data["code"]]
        attempt = int(current.data["attempt"])
        if record.status != 6:
            return
        created = self.call(
            "POST /api/v1/dossiers/[code]/payments",
            f"/api/v1/dossiers/{record.code}/payments",
            headers={**self.auth(record), "Idempotency-Key": f"{record.code}-pay-{attempt}"},
            schema=PaymentOut,
            check=lambda b: (
                None
                if b["amount"] == sim.world.procedures[record.procedure].fees_total
                else f"amount {b['amount']} is not the procedure's fees"
            ),
        )
        sim.book.count("payments.created")
        faults = {"X-Gateway-Faults": rules.gateway_faults} if rules.gateway_faults else {}
        self.call(
            "GET /paymentv2/vpcpay.html",
            created["pay_url"],
            headers=faults,
        )
        transaction = self.client_last_header("X-Transaction-No")
        cards = rules.cards
        outcome = sim.rng(record.agency).choices(
            ["success", "decline", "cancel"], weights=[cards.success, cards.decline, cards.cancel]
        )[0]
        choice: dict[str, Any] = (
            {"card": SUCCESS_CARD}
            if outcome == "success"
            else {"card": DECLINE_CARD}
            if outcome == "decline"
            else {"outcome": "cancel"}
        )
        paid_at = time.time()
        self.call(
            "POST /api/simulate/[transaction_no]",
            f"/api/simulate/{transaction}",
            json=choice,
            base=this_process.gateway,
        )
        if outcome != "success":
            sim.book.count("payments.failed")
            if sim.rng(record.agency).random() < rules.retry_after_decline:
                sim.after_working_hours(
                    "payer",
                    "pay",
                    sim.rng(record.agency).uniform(0.1, 1),
                    code=record.code,
                    attempt=attempt + 1,
                )
            else:
                sim.after_working_hours("backoffice", "counter_paid", 2.0, code=record.code)
            return
        self.await_confirmation(record.code, created["txn_ref"], paid_at)

    def await_confirmation(self, code: str, txn_ref: str, paid_at: float) -> None:
        sim, rules = self.sim, self.sim.workload.payments
        record = sim.ledger[code]
        deadline = paid_at + rules.confirm_timeout_seconds
        while time.time() < deadline:
            self._intended = None
            payments = self.call(
                "GET /api/v1/dossiers/[code]/payments",
                f"/api/v1/dossiers/{code}/payments",
                headers=self.auth(record),
            )
            mine = [p for p in PAYMENTS.validate_python(payments) if p.txn_ref == txn_ref]
            if mine and mine[0].status == "success":
                sim.book.observe("payment.confirmation", (time.time() - paid_at) * 1000)
                sim.book.count("payments.confirmed")
                record.payments_confirmed.append(txn_ref)
                sim.touch(code)
                sim.later("backoffice", "paid", time.time(), code=code)
                return
            time.sleep(rules.poll_seconds)
        sim.book.count("payments.unconfirmed")
        raise Rejected(f"payment {txn_ref} of {code} not confirmed in time")

    def client_last_header(self, name: str) -> str:
        value = self.last_headers.get(name)
        if not value:
            raise Rejected(f"the gateway's pay page sent no {name}")
        return str(value)
