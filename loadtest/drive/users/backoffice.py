"""The back office of an agency for online dossiers, on the agency API: pulls its inbox,
acknowledges, takes dossiers in or refuses them, and has its officers work them (a queue of `c`
officers in working time), requesting supplements or fees, stopping some, resolving and
returning the rest."""

from __future__ import annotations

import time
from datetime import datetime

from app.core.pagination import Page
from app.dossiers.schemas import DossierOut
from loadtest.drive.engine import DossierRecord, Simulation, Task
from loadtest.drive.runtime import this_process
from loadtest.drive.users.base import ActorUser, expect_status
from loadtest.judge.audit import instant
from loadtest.model.officers import Admitted
from loadtest.model.officers import service_hours as draw_service_hours


def service_hours(sim: Simulation, record: DossierRecord) -> float:
    """The officer's working hours for this dossier (the staffing simulation draws the same)."""
    return draw_service_hours(sim.workload, sim.rng(record.agency), record.procedure_hours)


class BackOffice(ActorUser):
    actor = "backoffice"

    def headers(self, record: DossierRecord | str) -> dict[str, str]:
        return this_process.agency_headers(record if isinstance(record, str) else record.agency)

    def move(
        self,
        record: DossierRecord,
        status: int,
        note: str | None = None,
        electronic_result: bool | None = None,
        *,
        intended: datetime,
    ) -> dict[str, str]:
        """Drive `record` to `status`; `intended` is the simulated instant the workload meant
        the step for (`meant`), kept for the steps that decide lateness."""
        body = self.call(
            "POST /api/v1/agency/dossiers/[code]/transitions",
            f"/api/v1/agency/dossiers/{record.code}/transitions",
            json={
                "to_status": status,
                **({"note": note} if note else {}),
                **({} if electronic_result is None else {"electronic_result": electronic_result}),
            },
            headers=self.headers(record),
            schema=DossierOut,
            check=expect_status(status),
        )
        paused = record.status == 5
        record.status = status
        if status == 2 or (status == 4 and record.accepted_at is None):
            record.accepted_at = body["accepted_at"]
            # Meant at the poll the schedule has for it; past the schedule's last poll, at the
            # poll that found it, never before the portal had it.
            assert record.submitted_at is not None
            record.accept_intended = (
                record.accept_scheduled or max(intended, instant(record.submitted_at)).isoformat()
            )
        if status in (3, 8, 9) and record.finished_real is None:
            record.finished_real = time.time()
            if not paused:  # stopped while a supplement was awaited: the request is the end
                record.finish_intended = intended.isoformat()
        self.sim.touch(record.code)
        return dict(body)

    def meant(self, task: Task) -> datetime:
        """The simulated instant the workload meant `task` for: its intended start, or the
        instant it carries when it could only start later (an intake is meant at the poll that
        found the dossier, an officer's finish when the officers' queue says)."""
        if "meant" in task.data:
            return instant(task.data["meant"])
        return self.sim.sim_datetime(task.at)

    def on_inbox(self, current: Task) -> None:
        agency = current.data["agency"]
        page = self.call(
            "GET /api/v1/agency/dossiers",
            "/api/v1/agency/dossiers",
            params={"size": 200},
            headers=self.headers(agency),
            schema=Page[DossierOut],
        )
        polled = self.meant(current)
        for item in page["items"]:
            record = self.sim.ledger.get(item["code"])
            if record is None or record.status != 1 or record.code in self.sim.taken:
                continue
            # A poll that runs late leaves what was submitted after its instant to the poll the
            # schedule has for it.
            if record.accept_scheduled is None or instant(record.accept_scheduled) <= polled:
                self.sim.taken.add(record.code)  # the next poll, before the ack, leaves it
                self.sim.later(
                    "backoffice",
                    "intake",
                    time.time(),
                    code=record.code,
                    meant=polled.isoformat(),
                )

    def on_intake(self, current: Task) -> None:
        sim, rules = self.sim, self.sim.workload.backoffice
        record = sim.ledger[current.data["code"]]
        with sim.lock(record.code):
            if record.status != 1:  # withdrawn meanwhile
                sim.leave_line(record.agency, record.place)
                return
            try:
                self.call(
                    "POST /api/v1/agency/dossiers/[code]/ack",
                    f"/api/v1/agency/dossiers/{record.code}/ack",
                    headers=self.headers(record),
                    schema=DossierOut,
                    check=lambda b: None if b["acked_at"] else "not acknowledged",
                )
                simple = sim.workload.queueing is not None
                draw = sim.rng(record.agency).random()
                polled = self.meant(current)
                if not simple and draw < rules.refuse_at_intake:
                    self.move(record, 3, "Hồ sơ không thuộc thẩm quyền", intended=polled)
                    return
                if not simple and draw < rules.refuse_at_intake + rules.supplement_at_intake:
                    self.request_supplement(record, polled)
                    return
                self.move(record, 2, intended=polled)
                self.move(record, 4, intended=polled)
            finally:
                if record.status != 4:  # it does not join the officers' queue now
                    sim.leave_line(record.agency, record.place)
        assert record.accept_intended is not None
        # The officers' queue takes the dossier at the acceptance the workload intended and in
        # its place, not when the acceptance's responses came back: the chain's real time and
        # its order stay out of the queue.
        assert record.place is not None
        record.work_hours = draw_service_hours(
            sim.workload, sim.work_rng(record.agency, record.place), record.procedure_hours
        )
        sim.touch(record.code)
        sim.enter_line(record, instant(record.accept_intended), record.work_hours)

    def on_line(self, current: Task) -> None:
        """A dossier's patience in its agency's line ran out (`Simulation.enter_line`)."""
        self.sim.stop_waiting(current.data["agency"], current.data["place"])

    def on_assign(self, current: Task) -> None:
        """A supplement came in (5 -> 4): back to the officers' queue."""
        record = self.sim.ledger[current.data["code"]]
        pool = self.sim.officers[record.agency]
        start_done = pool.assign(self.meant(current), service_hours(self.sim, record))
        self.sim.admit([Admitted(record.code, *start_done)])

    def request_supplement(self, record: DossierRecord, intended: datetime) -> None:
        sim, citizen = self.sim, self.sim.workload.citizen
        self.move(record, 5, "Đề nghị bổ sung giấy tờ", intended=intended)
        record.supplements += 1
        if sim.rng(record.agency).random() < citizen.supplement_never:
            # Nobody comes: the office stops the dossier after three reaction times.
            sim.after_working_hours(
                "backoffice",
                "stop_waiting",
                3 * citizen.supplement_reaction_hours,
                code=record.code,
            )
        else:
            hours = sim.rng(record.agency).expovariate(1 / citizen.supplement_reaction_hours)
            sim.after_working_hours("citizen", "supplement", hours, code=record.code)

    def on_done(self, current: Task) -> None:
        sim, rules = self.sim, self.sim.workload.backoffice
        record = sim.ledger[current.data["code"]]
        simple = sim.workload.queueing is not None
        with sim.lock(record.code):
            if record.status != 4:
                return
            draw = sim.rng(record.agency).random()
            if not simple and record.supplements == 0 and draw < rules.supplement_in_processing:
                self.request_supplement(record, self.meant(current))
                return
            if not simple and sim.rng(record.agency).random() < rules.stop_probability:
                self.move(record, 8, "Dừng xử lý", intended=self.meant(current))
                return
            fees = sim.world.procedures[record.procedure].fees_total
            if not simple and fees > 0 and not record.payments_confirmed:
                self.move(record, 6, "Đề nghị nộp phí, lệ phí", intended=self.meant(current))
                if sim.rng(record.agency).random() < sim.workload.volumes.online_payment_share:
                    sim.after_working_hours(
                        "payer",
                        "pay",
                        sim.rng(record.agency).expovariate(1.0),
                        code=record.code,
                        attempt=1,
                    )
                else:
                    sim.after_working_hours("backoffice", "counter_paid", 2.0, code=record.code)
                return
            self.resolve(record, self.meant(current))

    def resolve(self, record: DossierRecord, intended: datetime) -> None:
        self.move(record, 9, "Đã giải quyết", intended=intended)
        if self.sim.workload.queueing is None:
            delay = self.sim.rng(record.agency).expovariate(
                1 / max(self.sim.workload.backoffice.return_delay_hours, 1e-6)
            )
            self.sim.after_working_hours("backoffice", "return", delay, code=record.code)

    def on_paid(self, current: Task) -> None:
        """The payer's fees were confirmed (the IPN moved the dossier 6 -> 4): resolve it."""
        record = self.sim.ledger[current.data["code"]]
        with self.sim.lock(record.code):
            self.call(
                "GET /api/v1/agency/dossiers/[code]",
                f"/api/v1/agency/dossiers/{record.code}",
                headers=self.headers(record),
                schema=DossierOut,
                check=expect_status(4),
            )
            record.status = 4
            self.resolve(record, self.meant(current))

    def on_counter_paid(self, current: Task) -> None:
        """Fees paid at the counter: 6 -> 9 directly."""
        record = self.sim.ledger[current.data["code"]]
        with self.sim.lock(record.code):
            if record.status == 6:
                self.resolve(record, self.meant(current))

    def on_return(self, current: Task) -> None:
        record = self.sim.ledger[current.data["code"]]
        with self.sim.lock(record.code):
            if record.status != 9:
                return
            rng = self.sim.rng(record.agency)
            electronic = rng.random() < self.sim.workload.backoffice.electronic_result_share
            self.move(
                record,
                10,
                "Đã trả kết quả",
                electronic_result=electronic,
                intended=self.meant(current),
            )
            record.returned_real = time.time()
        citizen = self.sim.workload.citizen
        for kind, probability in (
            ("rate", citizen.rating_probability),
            ("complain", citizen.complaint_probability),
        ):
            if self.sim.rng(record.agency).random() < probability:
                self.sim.after_working_hours(
                    "citizen", kind, self.sim.rng(record.agency).uniform(0, 4), code=record.code
                )

    def on_close(self, current: Task) -> None:
        record = self.sim.ledger[current.data["code"]]
        with self.sim.lock(record.code):
            if record.status == 7:
                self.move(record, 8, "Công dân rút hồ sơ", intended=self.meant(current))

    def on_stop_waiting(self, current: Task) -> None:
        record = self.sim.ledger[current.data["code"]]
        with self.sim.lock(record.code):
            if record.status == 5:
                self.move(record, 8, "Không bổ sung hồ sơ", intended=self.meant(current))
