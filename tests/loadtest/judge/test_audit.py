"""The audit after a run must fail when the portal lost, doubled or changed a dossier, and pass
on an honest portal. The portal here is a small fake behind httpx.MockTransport whose dossiers
follow the portal's own deadline rules (app.dossiers.lifecycle and deadlines); the harness's
ledger is written by hand in DossierRecord's shape."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.calendar import VIETNAM_TZ, WorkingCalendar
from app.dossiers.deadlines import ProcessingTime, classify
from app.dossiers.kinds import ActorKind
from app.dossiers.lifecycle import Progress, advance
from app.dossiers.states import LEGAL_TRANSITIONS, Status
from loadtest.judge.audit import Auditor, AuditReport, Procedure, expected_deadline, instant

CALENDAR = WorkingCalendar()
AGENCY_A, AGENCY_B = "000.00.99.H01", "000.00.99.H02"
PROCEDURES = {
    "1.000001": Procedure(2, "working_day"),
    "1.000002": Procedure(8, "working_hour"),
}
SINCE = datetime(2026, 3, 2, 7, 0, tzinfo=VIETNAM_TZ)
AUDITED_AT = datetime(2026, 4, 1, 9, 0, tzinfo=VIETNAM_TZ)  # the portal's clock at the audit


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of March 2026, Vietnam time."""
    return datetime(2026, 3, day, hour, minute, tzinfo=VIETNAM_TZ)


def iso(value: datetime | None) -> str | None:
    return value.astimezone(VIETNAM_TZ).isoformat() if value else None


# --- a portal that keeps the rules -----------------------------------------------------------


@dataclass
class Dossier:
    """One dossier as the portal holds it: its view (DossierOut's fields) and its events."""

    view: dict[str, Any]
    events: list[dict[str, Any]]
    payments: list[dict[str, Any]] = field(default_factory=list)


def replay(
    code: str,
    *,
    agency: str,
    procedure: str,
    channel: int,
    identity: str,
    path: list[tuple[int, datetime]],
    paid_online: int = 0,
) -> Dossier:
    """The portal's dossier after `path` (its first step is the submission, to 1)."""
    spec = PROCEDURES[procedure]
    processing = ProcessingTime(spec.processing_time, spec.processing_unit)  # type: ignore[arg-type]
    submitted_at = path[0][1]
    progress = Progress(status=Status.SUBMITTED)
    events = [{"from_status": None, "to_status": 1, "at": iso(submitted_at), "applied": True}]
    for target, when in path[1:]:
        before = progress.status
        progress = advance(
            progress,
            Status(target),
            when,
            ActorKind.SYSTEM,
            calendar=CALENDAR,
            processing=processing,
        )
        events.append(
            {"from_status": int(before), "to_status": target, "at": iso(when), "applied": True}
        )
    timeliness = classify(
        due_at=progress.due_at,
        finished_at=progress.finished_at,
        paused_at=progress.paused_at,
        supplement_requests=progress.supplement_requests,
        now=AUDITED_AT,
    )
    view = {
        "code": code,
        "status": int(progress.status),
        "procedure_code": procedure,
        "agency_code": agency,
        "channel": channel,
        "applicant": {"full_name": "Nguyễn Văn A", "identifier": identity},
        "submitted_at": iso(submitted_at),
        "acked_at": iso(submitted_at),
        "accepted_at": iso(progress.accepted_at),
        "due_at": iso(progress.due_at),
        "finished_at": iso(progress.finished_at),
        "returned_at": iso(progress.returned_at),
        "supplement_requests": progress.supplement_requests,
        "timeliness": timeliness,
        "paid_online": paid_online,
    }
    return Dossier(view, events)


class FakePortal:
    """The endpoints the audit reads, over a dict of dossiers; it checks credentials, so that
    an audit sending the wrong ones fails loudly."""

    def __init__(self, dossiers: dict[str, Dossier], *, page_size: int = 200) -> None:
        self.dossiers = dossiers
        self.page_size = page_size
        self.listed_twice: set[str] = set()
        self.hidden_from_lookup: set[str] = set()
        self.lookup_status: dict[str, int] = {}
        self.listing_pages = 0
        # Counts the indicators report beyond what its dossiers say, per agency and field.
        self.indicator_drift: dict[str, dict[str, int]] = {}

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/v1/auth/citizen-login" and request.method == "POST":
            identifier = json.loads(request.content)["identifier"]
            return httpx.Response(200, json={"access_token": f"token-{identifier}"})
        if path == "/api/v1/sync/login" and request.method == "POST":
            body = json.loads(request.content)
            if body["password"] != f"secret-{body['username']}":
                return httpx.Response(401, json={"error_code": 1, "message": "wrong password"})
            return httpx.Response(200, json={"error_code": 0, "session": f"s-{body['username']}"})
        if path == "/api/v1/sync" and request.method == "POST":
            return self._sync(json.loads(request.content))
        if path == "/api/v1/clock":
            return httpx.Response(200, json={"now": iso(AUDITED_AT)})
        if path == "/api/v1/indicators/series":
            return self._series(request.url.params)
        if path.startswith("/api/v1/agency/dossiers") and request.method == "GET":
            key = request.headers.get("X-Agency-Key", "")
            if not key.startswith("key-"):
                return httpx.Response(401, json={"detail": "no agency key"})
            return self._agency(key.removeprefix("key-"), path, request.url.params)
        if path.startswith("/api/v1/dossiers/") and path.endswith("/payments"):
            code = path.split("/")[4]
            dossier = self.dossiers.get(code)
            if dossier is None:
                return httpx.Response(404, json={"detail": "no such dossier"})
            owner = dossier.view["applicant"]["identifier"]
            if request.headers.get("Authorization") != f"Bearer token-{owner}":
                return httpx.Response(403, json={"detail": "not yours"})
            return httpx.Response(200, json=dossier.payments)
        return httpx.Response(404, json={"detail": f"no route {request.method} {path}"})

    def _agency(self, agency: str, path: str, params: httpx.QueryParams) -> httpx.Response:
        parts = path.removeprefix("/api/v1/agency/dossiers").strip("/").split("/")
        if parts == [""]:
            return self._listing(agency, params)
        dossier = self.dossiers.get(parts[0])
        if dossier is None or dossier.view["agency_code"] != agency:
            return httpx.Response(404, json={"detail": "no such dossier"})
        if parts[1:] == ["events"]:
            return httpx.Response(200, json=dossier.events)
        return httpx.Response(200, json=dossier.view)

    def _listing(self, agency: str, params: httpx.QueryParams) -> httpx.Response:
        """Online dossiers of the agency, oldest first; only unacknowledged ones unless asked."""
        self.listing_pages += 1
        everything = params.get("include_acknowledged") == "true"
        items = [
            d.view
            for d in self.dossiers.values()
            if d.view["agency_code"] == agency
            and d.view["channel"] == 2
            and (everything or d.view["acked_at"] is None)
        ]
        items += [d for d in items if d["code"] in self.listed_twice]
        items.sort(key=lambda d: d["submitted_at"])
        size = min(int(params.get("size", 20)), self.page_size)
        page = int(params.get("page", 1))
        body = {
            "items": items[(page - 1) * size : page * size],
            "total": len(items),
            "page": page,
            "size": size,
        }
        return httpx.Response(200, json=body)

    def _series(self, params: httpx.QueryParams) -> httpx.Response:
        """One point for the whole period: the agency's dossiers counted as the portal's
        indicators count them, drifted where a test says so."""
        agency = params["code"]
        first = datetime.fromisoformat(params["from"]).date()
        mine = [
            d.view
            for d in self.dossiers.values()
            if d.view["agency_code"] == agency
            and instant(d.view["submitted_at"]).astimezone(VIETNAM_TZ).date() >= first
        ]
        finished = [v for v in mine if v["finished_at"] and v["due_at"]]
        point: dict[str, Any] = {
            "start": params["from"],
            "received": len(mine),
            "received_online": sum(1 for v in mine if v["channel"] == 2),
            "finished": len(finished),
            "finished_on_time": sum(1 for v in finished if v["timeliness"] in ("early", "on_time")),
        }
        for name, extra in self.indicator_drift.get(agency, {}).items():
            point[name] += extra
        return httpx.Response(200, json=[point])

    def _sync(self, body: dict[str, Any]) -> httpx.Response:
        agency = body["madonvi"]
        if body["session"] != f"s-{agency}" or body["service"] != "TraCuuHoSo":
            return httpx.Response(401, json={"error_code": 2, "message": "bad session"})
        results, data = [], []
        for item in body["data"]:
            code = item["MaHoSo"]
            dossier = self.dossiers.get(code)
            if (
                dossier is None
                or dossier.view["agency_code"] != agency
                or code in self.hidden_from_lookup
            ):
                results.append({"MaHoSo": code, "error_code": 4, "result": "refused"})
                continue
            status = self.lookup_status.get(code, dossier.view["status"])
            results.append({"MaHoSo": code, "error_code": 0, "result": "found"})
            data.append({"MaHoSo": code, "TrangThaiHoSo": status, "KenhThucHien": 1})
        return httpx.Response(200, json={"error_code": 0, "results": results, "data": data})


def record(
    dossier: Dossier,
    *,
    status: int | None = None,
    payments: list[str] | None = None,
    synced: bool = False,
) -> dict[str, Any]:
    """What the harness saw acknowledged for `dossier`, in DossierRecord.as_dict()'s shape."""
    view = dossier.view
    driven = view["status"] if status is None else status
    return {
        "code": view["code"],
        "agency": view["agency_code"],
        "procedure": view["procedure_code"],
        "channel": view["channel"],
        "identity": view["applicant"]["identifier"],
        "status": driven,
        "submitted_real": 1000.0,
        "submitted_at": view["submitted_at"],
        "accepted_at": view["accepted_at"],
        "finished_real": 1100.0 if view["finished_at"] else None,
        "returned_real": 1200.0 if view["returned_at"] else None,
        "supplements": view["supplement_requests"],
        "payments_confirmed": payments or [],
        "sync_items": len(dossier.events) if synced else 0,
        "synced_status": driven if synced else None,
        "synced_at": "20260304100000" if synced else "",
        "events": [[e["to_status"], e["at"]] for e in dossier.events] if synced else [],
        "procedure_hours": 16.0,
        "revision": 3,
    }


@dataclass
class Run:
    """A run's ledger and the portal it left behind."""

    portal: FakePortal
    ledger: dict[str, dict[str, Any]]

    def audit(self, *, cross_check_indicators: bool = False) -> AuditReport:
        with httpx.Client(
            transport=httpx.MockTransport(self.portal.handler), base_url="http://portal"
        ) as client:

            def login(identity: str) -> dict[str, str]:
                response = client.post("/api/v1/auth/citizen-login", json={"identifier": identity})
                token = response.raise_for_status().json()["access_token"]
                return {"Authorization": f"Bearer {token}"}

            auditor = Auditor(
                client,
                headers=lambda agency: {"X-Agency-Key": f"key-{agency}"},
                login=login,
                sync_login=lambda agency: {"username": agency, "password": f"secret-{agency}"},
                calendar=CALENDAR,
                procedures=PROCEDURES,
                since=SINCE,
                cross_check_indicators=cross_check_indicators,
            )
            return auditor.run(self.ledger, [AGENCY_A, AGENCY_B])


CITIZEN_1, CITIZEN_2, CITIZEN_3 = "001000000001", "001000000002", "079000000003"
STRANGER = "001099999999"  # not one of this run's citizens


def honest_run(page_size: int = 200) -> Run:
    d = {
        # Early: accepted Monday 09:30 for 2 working days (due Wednesday 09:30), resolved on
        # Tuesday, returned on Wednesday.
        "A-1": replay(
            "A-1",
            agency=AGENCY_A,
            procedure="1.000001",
            channel=2,
            identity=CITIZEN_1,
            path=[
                (1, at(2, 9)),
                (2, at(2, 9, 30)),
                (4, at(2, 10)),
                (9, at(3, 15)),
                (10, at(4, 11)),
            ],
        ),
        # A supplement paused the clock for 8 working hours; resolved at the shifted due date.
        "A-2": replay(
            "A-2",
            agency=AGENCY_A,
            procedure="1.000002",
            channel=2,
            identity=CITIZEN_2,
            path=[
                (1, at(3, 8)),
                (2, at(3, 9)),
                (4, at(3, 9)),
                (5, at(3, 10)),
                (4, at(4, 10)),
                (9, at(5, 9)),
            ],
        ),
        # Fees paid online: 4 -> 6 -> 4.
        "A-3": replay(
            "A-3",
            agency=AGENCY_A,
            procedure="1.000001",
            channel=2,
            identity=CITIZEN_1,
            path=[(1, at(5, 8)), (2, at(5, 8, 30)), (4, at(5, 9)), (6, at(5, 10)), (4, at(5, 11))],
            paid_online=1,
        ),
        # Submitted, never accepted.
        "A-4": replay(
            "A-4",
            agency=AGENCY_A,
            procedure="1.000001",
            channel=2,
            identity=CITIZEN_2,
            path=[(1, at(6, 8))],
        ),
        # Received at the counter and pushed on the sync contract; resolved and returned.
        "B-1": replay(
            "B-1",
            agency=AGENCY_B,
            procedure="1.000001",
            channel=1,
            identity=CITIZEN_3,
            path=[(1, at(3, 8)), (2, at(3, 8)), (4, at(3, 8)), (9, at(4, 15)), (10, at(5, 8))],
        ),
        # Refused at intake: finished, but no due date.
        "B-2": replay(
            "B-2",
            agency=AGENCY_B,
            procedure="1.000001",
            channel=2,
            identity=CITIZEN_3,
            path=[(1, at(4, 8)), (3, at(4, 9))],
        ),
        # Resolved after its due date.
        "B-3": replay(
            "B-3",
            agency=AGENCY_B,
            procedure="1.000002",
            channel=2,
            identity=CITIZEN_1,
            path=[(1, at(9, 8)), (2, at(9, 8)), (4, at(9, 8)), (9, at(11, 8))],
        ),
    }
    d["A-3"].payments = [{"txn_ref": "TXN-1", "status": "success", "amount": 50_000}]
    ledger = {
        "A-1": record(d["A-1"]),
        "A-2": record(d["A-2"]),
        "A-3": record(d["A-3"], payments=["TXN-1"]),
        "A-4": record(d["A-4"]),
        "B-1": record(d["B-1"], synced=True),
        "B-2": record(d["B-2"]),
        "B-3": record(d["B-3"]),
    }
    # Dossiers the run did not make, which the audit must leave alone: an earlier run's
    # dossier of one of this run's citizens, and a stranger's dossier submitted during the run.
    d["OLD"] = replay(
        "OLD",
        agency=AGENCY_A,
        procedure="1.000001",
        channel=2,
        identity=CITIZEN_1,
        path=[(1, datetime(2026, 2, 27, 9, 0, tzinfo=VIETNAM_TZ))],
    )
    d["STRANGER"] = replay(
        "STRANGER",
        agency=AGENCY_B,
        procedure="1.000001",
        channel=2,
        identity=STRANGER,
        path=[(1, at(4, 9))],
    )
    return Run(FakePortal(d, page_size=page_size), ledger)


def test_the_honest_portal_is_what_the_cases_say() -> None:
    """The fixture's dossiers carry the timeliness their comments claim."""
    views = {code: d.view for code, d in honest_run().portal.dossiers.items()}
    assert views["A-1"]["timeliness"] == "early"
    assert views["A-1"]["due_at"] == iso(at(4, 9, 30))
    assert views["A-2"]["timeliness"] == "on_time"
    assert views["A-2"]["due_at"] == iso(at(5, 9))  # 8 working hours, shifted by 8 paused
    assert views["B-2"]["due_at"] is None
    assert views["B-3"]["timeliness"] == "overdue"


@pytest.mark.parametrize("page_size", [200, 2])
def test_an_honest_portal_passes(page_size: int) -> None:
    run = honest_run(page_size)
    report = run.audit()
    assert report.section().model_dump() == {
        "ok": True,
        "performed": True,
        "not_performed": None,
        "checked": len(run.ledger),
        "lost": [],
        "duplicated": [],
        "mismatched": [],
        "indicators_checked": 0,
    }
    assert set(report.views) == set(run.ledger)
    if page_size == 2:
        assert run.portal.listing_pages > 2  # the listing was read over several pages


def exclusive_run() -> Run:
    """The honest run on a portal that holds this run's dossiers alone."""
    run = honest_run()
    for foreign in ("OLD", "STRANGER"):
        del run.portal.dossiers[foreign]
    return run


def test_an_honest_portals_indicators_agree_with_the_ledger() -> None:
    report = exclusive_run().audit(cross_check_indicators=True)
    assert report.ok, report.mismatched
    assert report.indicators_checked == 2


def test_the_cross_check_is_for_a_portal_of_this_run_alone() -> None:
    # A stranger's dossier is no fault of the portal, but the counts can no longer agree: so
    # `portalsim run` asks for the cross-check only on a portal it started on a new database.
    report = honest_run().audit(cross_check_indicators=True)
    assert report.mismatched == [
        f"indicators of {AGENCY_B}: received 4 (the harness counts 3), "
        "received_online 3 (the harness counts 2)"
    ]


@pytest.mark.parametrize(
    "drift",
    [
        {"received": 1},
        {"received_online": -1},
        {"finished": 1},
        {"finished_on_time": -1},
    ],
)
def test_indicators_that_disagree_with_the_ledger_are_mismatched(drift: dict[str, int]) -> None:
    run = exclusive_run()
    run.portal.indicator_drift[AGENCY_B] = drift
    report = run.audit(cross_check_indicators=True)
    [name] = drift
    assert report.mismatched == [
        message for message in report.mismatched if message.startswith(f"indicators of {AGENCY_B}")
    ]
    assert len(report.mismatched) == 1
    assert f"{name} " in report.mismatched[0]
    assert "(the harness counts" in report.mismatched[0]


def test_a_missing_dossier_is_lost() -> None:
    run = honest_run()
    del run.portal.dossiers["A-2"]
    report = run.audit()
    assert not report.ok
    assert report.lost == ["A-2"]
    assert report.duplicated == []
    assert report.mismatched == []


@pytest.mark.parametrize("page_size", [200, 2])
def test_a_dossier_listed_twice_is_duplicated(page_size: int) -> None:
    run = honest_run(page_size)
    run.portal.listed_twice.add("A-1")
    report = run.audit()
    assert not report.ok
    assert report.duplicated == ["A-1"]


def test_an_extra_dossier_of_a_run_citizen_is_duplicated() -> None:
    run = honest_run()
    run.portal.dossiers["A-9"] = replay(
        "A-9",
        agency=AGENCY_A,
        procedure="1.000001",
        channel=2,
        identity=CITIZEN_2,
        path=[(1, at(3, 8, 1))],
    )
    report = run.audit()
    assert report.duplicated == ["A-9"]
    assert report.lost == []
    assert report.mismatched == []


def test_a_status_other_than_the_harness_drove_is_mismatched() -> None:
    run = honest_run()
    run.ledger["A-2"]["status"] = 10  # the harness returned it; the portal still says 9
    report = run.audit()
    assert len(report.mismatched) == 1
    assert report.mismatched[0].startswith("A-2: status 9")


def test_a_payment_confirmed_after_the_payer_gave_up_may_have_moved_on() -> None:
    run = honest_run()
    run.ledger["A-3"]["status"] = 6  # the payer stopped waiting; the portal moved 6 -> 4
    assert run.audit().ok


def test_a_counter_dossier_is_held_to_its_synced_status() -> None:
    run = honest_run()
    run.ledger["B-1"]["synced_status"] = 9  # the back office's last accepted item was 9
    report = run.audit()
    assert any(m.startswith("B-1: status 10") for m in report.mismatched)


def test_a_wrong_timeliness_is_mismatched() -> None:
    run = honest_run()
    run.portal.dossiers["A-1"].view["timeliness"] = "on_time"  # it was early
    report = run.audit()
    assert len(report.mismatched) == 1
    assert report.mismatched[0].startswith("A-1: the portal says due")
    assert "early" in report.mismatched[0]


@pytest.mark.parametrize(
    ("shift", "ok"),
    [
        (timedelta(days=1), False),
        (timedelta(hours=-2), False),
        (timedelta(minutes=5), False),
        (timedelta(seconds=30), True),  # the audit compares to the minute
    ],
)
def test_a_wrong_due_date_is_mismatched(shift: timedelta, ok: bool) -> None:
    run = honest_run()
    view = run.portal.dossiers["B-3"].view
    view["due_at"] = iso(instant(view["due_at"]) + shift)
    report = run.audit()
    assert report.ok is ok
    if not ok:
        assert [m.split(":")[0] for m in report.mismatched] == ["B-3"]


def test_the_honest_due_date_is_the_calendars() -> None:
    """B-3: accepted Monday 9 March 08:00 with 8 working hours: 3.5 before lunch and 4 after
    it on Monday, the last half hour on Tuesday: due Tuesday 08:00."""
    due, timeliness = expected_deadline(
        [(None, 1, at(9, 8)), (1, 2, at(9, 8)), (2, 4, at(9, 8)), (4, 9, at(11, 8))],
        PROCEDURES["1.000002"],
        CALENDAR,
    )
    assert due == CALENDAR.due_at(at(9, 8), 8, "working_hour") == at(10, 8)
    assert timeliness == "overdue"


@pytest.mark.parametrize("second", [["TXN-1", "TXN-2"], ["TXN-1", "TXN-1"]])
def test_a_payment_confirmed_twice_is_mismatched(second: list[str]) -> None:
    run = honest_run()
    run.portal.dossiers["A-3"].payments = [
        {"txn_ref": ref, "status": "success", "amount": 50_000} for ref in second
    ]
    report = run.audit()
    assert len(report.mismatched) == 1
    assert report.mismatched[0].startswith("A-3: payments confirmed")


def test_a_payment_the_harness_saw_confirmed_must_be_confirmed() -> None:
    run = honest_run()
    run.portal.dossiers["A-3"].payments = [
        {"txn_ref": "TXN-1", "status": "pending", "amount": 50_000}
    ]
    assert [m.split(":")[0] for m in run.audit().mismatched] == ["A-3"]


def test_a_paid_dossier_that_did_not_move_on_is_mismatched() -> None:
    run = honest_run()
    run.portal.dossiers["A-3"].view["paid_online"] = 0
    report = run.audit()
    assert report.mismatched == ["A-3: paid, but the dossier did not move on"]


def test_a_synced_counter_dossier_missing_from_the_lookup_is_lost() -> None:
    run = honest_run()
    run.portal.hidden_from_lookup.add("B-1")
    report = run.audit()
    assert report.lost == ["B-1"]
    assert report.mismatched == []


def test_a_lookup_with_another_status_is_mismatched() -> None:
    run = honest_run()
    run.portal.lookup_status["B-1"] = 4
    report = run.audit()
    assert report.mismatched == ["B-1: TraCuuHoSo says 4, the back office synced 10"]


def test_a_lost_counter_dossier_is_counted_once() -> None:
    run = honest_run()
    del run.portal.dossiers["B-1"]
    report = run.audit()
    assert report.section().lost == ["B-1"]


def test_an_audit_sending_no_agency_key_fails_loudly() -> None:
    """The fake refuses requests without credentials: the audit above did send them."""
    run = honest_run()
    with httpx.Client(
        transport=httpx.MockTransport(run.portal.handler), base_url="http://portal"
    ) as client:
        auditor = Auditor(
            client,
            headers=lambda _agency: {},
            login=lambda _identity: {},
            sync_login=lambda agency: {"username": agency, "password": "?"},
            calendar=CALENDAR,
            procedures=PROCEDURES,
            since=SINCE,
        )
        with pytest.raises(httpx.HTTPStatusError):
            auditor.run(run.ledger, [AGENCY_A, AGENCY_B])


# --- expected_deadline -----------------------------------------------------------------------

TWO_DAYS = Procedure(2, "working_day")


def steps(*path: tuple[int, datetime]) -> Iterator[tuple[int | None, int, datetime]]:
    previous: int | None = None
    for to, when in path:
        yield previous, to, when
        previous = to


def test_two_working_days_from_tuesday_morning_are_due_thursday_morning() -> None:
    due, timeliness = expected_deadline(
        steps((1, at(3, 8)), (2, at(3, 9)), (4, at(3, 9, 5))), TWO_DAYS, CALENDAR
    )
    assert due == at(5, 9)
    assert timeliness is None  # not finished


def test_a_supplement_pause_shifts_the_due_date_by_the_paused_working_time() -> None:
    # Paused from Tuesday 10:00 to Wednesday 10:00: 5.5 + 2.5 = 8 working hours.
    due, timeliness = expected_deadline(
        steps(
            (1, at(3, 8)),
            (2, at(3, 9)),
            (4, at(3, 9)),
            (5, at(3, 10)),
            (4, at(4, 10)),
            (9, at(6, 8)),
        ),
        TWO_DAYS,
        CALENDAR,
    )
    assert CALENDAR.between(at(3, 10), at(4, 10)) == timedelta(hours=8)
    assert due == at(6, 9)  # Thursday 09:00 + 8 working hours
    assert timeliness == "on_time"  # finished on the due date, before the due instant


def test_a_pause_over_a_weekend_counts_only_working_time() -> None:
    # Paused Friday 16:00 to Monday 08:30: 1 + 1 = 2 working hours.
    due, _ = expected_deadline(
        steps((1, at(5, 8)), (2, at(5, 9)), (4, at(5, 9)), (5, at(6, 16)), (4, at(9, 8, 30))),
        TWO_DAYS,
        CALENDAR,
    )
    assert due == CALENDAR.add(at(9, 9), timedelta(hours=2)) == at(9, 11)


def test_two_supplement_requests_are_overdue() -> None:
    due, timeliness = expected_deadline(
        steps(
            (1, at(3, 8)),
            (2, at(3, 9)),
            (4, at(3, 9)),
            (5, at(3, 10)),
            (4, at(3, 11)),
            (5, at(3, 14)),
            (4, at(3, 15)),
            (9, at(3, 16)),
        ),
        TWO_DAYS,
        CALENDAR,
    )
    assert due is not None
    assert at(3, 16) < due
    assert timeliness == "overdue"


@pytest.mark.parametrize(
    ("finished", "timeliness"),
    [
        (at(4, 16), "early"),  # the day before the due date
        (at(5, 8), "on_time"),  # the due day, before 09:00
        (at(5, 9), "on_time"),  # exactly at the due instant
        (at(5, 9, 1), "overdue"),
        (at(9, 8), "overdue"),
    ],
)
def test_classification_by_the_finish(finished: datetime, timeliness: str) -> None:
    due, found = expected_deadline(
        steps((1, at(3, 8)), (2, at(3, 9)), (4, at(3, 9)), (9, finished), (10, at(10, 8))),
        TWO_DAYS,
        CALENDAR,
    )
    assert due == at(5, 9)
    assert found == timeliness


def test_a_supplement_that_never_came_ends_at_its_request() -> None:
    due, timeliness = expected_deadline(
        steps((1, at(3, 8)), (2, at(3, 9)), (4, at(3, 9)), (5, at(4, 10)), (8, at(20, 10))),
        TWO_DAYS,
        CALENDAR,
    )
    assert due == at(5, 9)
    assert timeliness == "early"  # the request (Wednesday) is the end, not the stop


def test_a_supplement_at_intake_starts_the_clock_when_complete() -> None:
    due, _ = expected_deadline(
        steps((1, at(2, 8)), (5, at(2, 9)), (4, at(3, 9)), (9, at(4, 9))), TWO_DAYS, CALENDAR
    )
    assert due == at(5, 9)


def test_steps_out_of_order_are_taken_by_time() -> None:
    ordered = list(steps((1, at(3, 8)), (2, at(3, 9)), (4, at(3, 9)), (9, at(4, 16))))
    assert expected_deadline(reversed(ordered), TWO_DAYS, CALENDAR) == expected_deadline(
        ordered, TWO_DAYS, CALENDAR
    )


def test_refused_at_intake_has_no_due_date() -> None:
    assert expected_deadline(steps((1, at(3, 8)), (3, at(3, 9))), TWO_DAYS, CALENDAR) == (
        None,
        None,
    )


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    amount=st.integers(0, 12),
    unit=st.sampled_from(["working_day", "working_hour"]),
    start_minutes=st.integers(0, 60 * 24 * 28),
)
def test_expected_deadline_agrees_with_the_portals_rules(
    data: st.DataObject, amount: int, unit: str, start_minutes: int
) -> None:
    """Any legal history: the audit's due date and timeliness are the portal's own (else the
    audit would fail honest runs)."""
    procedure = Procedure(amount, unit)
    processing = ProcessingTime(amount, unit)  # type: ignore[arg-type]
    when = datetime(2026, 3, 1, tzinfo=VIETNAM_TZ) + timedelta(minutes=start_minutes)
    progress = Progress(status=Status.SUBMITTED)
    history: list[tuple[int | None, int, datetime]] = [(None, 1, when)]
    for _ in range(data.draw(st.integers(0, 10), label="steps")):
        targets = sorted(LEGAL_TRANSITIONS[progress.status])
        if not targets:
            break
        target = data.draw(st.sampled_from(targets), label="to")
        when += timedelta(minutes=data.draw(st.integers(0, 60 * 24 * 5), label="gap"))
        before = progress.status
        progress = advance(
            progress, target, when, ActorKind.SYSTEM, calendar=CALENDAR, processing=processing
        )
        history.append((int(before), int(target), when))
    due, timeliness = expected_deadline(history, procedure, CALENDAR)
    assert due == progress.due_at
    if progress.finished_at is not None:
        portal = classify(
            due_at=progress.due_at,
            finished_at=progress.finished_at,
            paused_at=progress.paused_at,
            supplement_requests=progress.supplement_requests,
            now=when,
        )
        assert timeliness == portal


def test_instant_reads_naive_times_as_vietnam_time() -> None:
    assert instant("2026-03-03T09:00:00") == at(3, 9)
    assert instant("2026-03-03T02:00:00+00:00") == at(3, 9)
    assert math.isclose(instant("2026-03-03T09:00:00+07:00").timestamp(), at(3, 9).timestamp())
