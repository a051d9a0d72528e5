"""Citizens and businesses: browse the catalogue (with and without diacritics), log in, submit
online with an Idempotency-Key, upload documents, follow their dossiers, withdraw sometimes,
hand in requested supplements, rate the service."""

from __future__ import annotations

import math
import random
import time
import unicodedata
from typing import Any

from pydantic import TypeAdapter
from urllib3.filepost import encode_multipart_formdata

from app.accounts.schemas import TokenOut
from app.catalogue.schemas import AgencyOut, ProcedureOut
from app.core.pagination import Page
from app.dossiers.schemas import ComplaintOut, DocumentOut, DossierOut
from loadtest.drive.engine import DossierRecord, Task
from loadtest.drive.users.base import ActorUser, Rejected, expect_status

DOCUMENTS = TypeAdapter(list[DocumentOut])
SUBMITTED = 1
WITHDRAWABLE = (1, 4)


def plain_text(text: str) -> str:
    """What a user types without accents: 'Đăng ký khai sinh' -> 'dang ky khai sinh'."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def pdf_bytes(kilobytes: int, label: str) -> bytes:
    """A small, valid-looking PDF (the portal checks the magic bytes) of about `kilobytes`."""
    head = f"%PDF-1.4\n% portalsim document {label}\n".encode()
    return head + b"0" * max(0, kilobytes * 1024 - len(head) - 6) + b"\n%%EOF"


def multipart(
    files: list[tuple[str, bytes]], fields: dict[str, str] | None = None
) -> tuple[bytes, str]:
    # Locust's FastHttpSession sends bytes only; urllib3 (a Locust dependency) encodes the form.
    parts: list[tuple[str, Any]] = [
        ("files", (name, content, "application/pdf")) for name, content in files
    ]
    parts.extend((key, value) for key, value in (fields or {}).items())
    body, content_type = encode_multipart_formdata(parts)
    return body, content_type


class BrowsingCitizen(ActorUser):
    """A visit to the catalogue: search, open a procedure, list the agencies that receive it."""

    actor = "browse"

    def on_visit(self, current: Task) -> None:
        procedure = self.sim.world.procedures[current.data["procedure"]]
        words = " ".join(procedure.name.split()[:3])
        query = plain_text(words) if current.data["plain"] else words
        self.call(
            "GET /api/v1/procedures?q",
            "/api/v1/procedures",
            params={"q": query, "size": 20},
            schema=Page[ProcedureOut],
            check=lambda body: None if body["total"] > 0 else f"no result for {query!r}",
        )
        self.call(
            "GET /api/v1/procedures/[code]",
            f"/api/v1/procedures/{procedure.code}",
            schema=ProcedureOut,
            check=lambda body: None if body["code"] == procedure.code else "another procedure",
        )
        self.call(
            "GET /api/v1/agencies?procedure",
            "/api/v1/agencies",
            params={"procedure": procedure.code, "size": 20},
            schema=Page[AgencyOut],
        )


class CitizenSession(ActorUser):
    """A citizen's log-in, once per identity and kept for the run."""

    abstract = True

    def token(self, identity: str, name: str) -> str:
        cached = self.sim.tokens.get(identity)
        if cached:
            return cached
        body = self.call(
            "POST /api/v1/auth/citizen-login",
            "/api/v1/auth/citizen-login",
            json={"identifier": identity, "full_name": name},
            schema=TokenOut,
        )
        self.sim.tokens[identity] = body["access_token"]
        return str(body["access_token"])

    def auth(self, record: DossierRecord) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(record.identity, 'Công dân')}"}


class Citizen(CitizenSession):
    actor = "citizen"

    def on_submit(self, current: Task) -> None:
        data = current.data
        sim, workload = self.sim, self.sim.workload
        headers = {
            "Authorization": f"Bearer {self.token(data['identity'], 'Công dân mô phỏng')}",
            "Idempotency-Key": data["key"],
        }
        try:
            body = self.call(
                "POST /api/v1/dossiers",
                "/api/v1/dossiers",
                json={
                    "procedure_code": data["procedure"],
                    "agency_code": data["agency"],
                    "form": {"ho_ten": "Công dân mô phỏng", "so_ban": 1},
                },
                headers=headers,
                schema=DossierOut,
                check=lambda b: (
                    None
                    if b["status"] == SUBMITTED and b["code"].startswith(data["agency"])
                    else f"unexpected dossier {b['code']} in status {b['status']}"
                ),
            )
        except Exception:  # no dossier: the officers' queue does not wait for its place
            sim.leave_line(data["agency"], data["place"])
            raise
        meant_submission = sim.sim_datetime(current.at)
        accepted = sim.scheduled_acceptance(data["agency"], meant_submission)
        # The documents go in before any back office may take the dossier in (status 1 only).
        with sim.lock(body["code"]):
            record = sim.record(
                DossierRecord(
                    code=body["code"],
                    agency=data["agency"],
                    procedure=data["procedure"],
                    channel=2,
                    identity=data["identity"],
                    status=SUBMITTED,
                    submitted_real=time.time(),
                    submitted_at=body["submitted_at"],
                    submit_intended=meant_submission.isoformat(),
                    accept_scheduled=None if accepted is None else accepted.isoformat(),
                    place=data["place"],
                    procedure_hours=sim.world.procedures[data["procedure"]].legal_hours,
                )
            )
            count = sim.rng(record.agency).randint(
                workload.citizen.documents_min, workload.citizen.documents_max
            )
            if count:
                files = [
                    (
                        f"giay-to-{n}.pdf",
                        pdf_bytes(workload.citizen.document_kb, f"{record.code}/{n}"),
                    )
                    for n in range(count)
                ]
                payload, content_type = multipart(files)
                self.call(
                    "POST /api/v1/dossiers/[code]/documents",
                    f"/api/v1/dossiers/{record.code}/documents",
                    data=payload,
                    headers={**headers, "Content-Type": content_type},
                    check=lambda b: None if len(DOCUMENTS.validate_python(b)) == count else "lost",
                )
        sim.catch_up_intake(record)
        self._follow_ups(record)

    def _follow_ups(self, record: DossierRecord) -> None:
        sim, citizen = self.sim, self.sim.workload.citizen
        if sim.workload.queueing is not None:
            return
        now = time.time()
        hour = 3600 / sim.timeline.speed
        for _ in range(_poisson(sim.rng(record.agency), citizen.polls_per_dossier)):
            sim.later(
                "citizen",
                "poll",
                now + sim.rng(record.agency).uniform(0, citizen.poll_within_hours) * hour,
                code=record.code,
            )
        if sim.rng(record.agency).random() < citizen.withdraw_probability:
            sim.later(
                "citizen",
                "withdraw",
                now + sim.rng(record.agency).uniform(0.5, 24) * hour,
                code=record.code,
            )

    def on_poll(self, current: Task) -> None:
        record = self.sim.ledger[current.data["code"]]
        with self.sim.lock(record.code):
            known = record.status
            # A confirmed payment moves 6 -> 4 inside the portal (the IPN), unseen by the harness.
            allowed = {known, 4} if known == 6 else {known}
            self.call(
                "GET /api/v1/dossiers/[code]",
                f"/api/v1/dossiers/{record.code}",
                headers=self.auth(record),
                schema=DossierOut,
                check=lambda b: (
                    None
                    if b["status"] in allowed
                    else f"status {b['status']}, the harness drove it to {known}"
                ),
            )

    def on_withdraw(self, current: Task) -> None:
        record = self.sim.ledger[current.data["code"]]
        with self.sim.lock(record.code):
            if record.status not in WITHDRAWABLE:
                return
            self.call(
                "POST /api/v1/dossiers/[code]/withdraw",
                f"/api/v1/dossiers/{record.code}/withdraw",
                json={"reason": "Không còn nhu cầu"},
                headers=self.auth(record),
                schema=DossierOut,
                check=expect_status(7),
            )
            if record.status == 1 and record.code not in self.sim.taken:
                # Gone before any back office took it in: its place is not waited for.
                self.sim.leave_line(record.agency, record.place)
            record.status = 7
            self.sim.touch(record.code)
        hours = self.sim.workload.backoffice.withdrawal_stop_hours
        self.sim.after_working_hours("backoffice", "close", hours, code=record.code)

    def on_supplement(self, current: Task) -> None:
        record = self.sim.ledger[current.data["code"]]
        with self.sim.lock(record.code):
            if record.status != 5:
                return
            payload, content_type = multipart(
                [("bo-sung.pdf", pdf_bytes(8, f"{record.code}/bo-sung"))],
                {"note": "Bổ sung giấy tờ theo yêu cầu"},
            )
            body = self.call(
                "POST /api/v1/dossiers/[code]/supplement",
                f"/api/v1/dossiers/{record.code}/supplement",
                data=payload,
                headers={**self.auth(record), "Content-Type": content_type},
                schema=DossierOut,
                check=expect_status(4),
            )
            record.status = 4
            record.accepted_at = record.accepted_at or body["accepted_at"]
            self.sim.touch(record.code)
        self.sim.later("backoffice", "assign", time.time(), code=record.code)

    def on_rate(self, current: Task) -> None:
        record = self.sim.ledger[current.data["code"]]
        score = self.sim.rng(record.agency).choices([5, 4, 3, 2, 1], weights=[60, 25, 8, 4, 3])[0]
        self.call(
            "POST /api/v1/dossiers/[code]/rating",
            f"/api/v1/dossiers/{record.code}/rating",
            json={"score": score, "comment": "Đánh giá mô phỏng"},
            headers=self.auth(record),
            schema=DossierOut,
            check=lambda b: None if b["rating"] == score else "rating not kept",
        )

    def on_complain(self, current: Task) -> None:
        record = self.sim.ledger[current.data["code"]]
        self.call(
            "POST /api/v1/dossiers/[code]/complaints",
            f"/api/v1/dossiers/{record.code}/complaints",
            json={"content": "Phản ánh mô phỏng: thời gian trả kết quả"},
            headers=self.auth(record),
            schema=ComplaintOut,
            check=lambda b: None if b["dossier_code"] == record.code else "another dossier",
        )


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: a Poisson count for the small means of a citizen's habits."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


__all__ = ["BrowsingCitizen", "Citizen", "Rejected"]
