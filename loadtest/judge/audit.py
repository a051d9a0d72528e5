"""After a run, through the portal's HTTP API only: every dossier the harness saw acknowledged
exists once, with the status the harness drove it to; no code is doubled and no dossier appeared
that the harness did not submit; every confirmed payment is confirmed once and its dossier moved
on; every sync item the portal accepted is visible; and for every finished dossier the portal's
due date and timeliness equal the harness's own computation from the dossier's history."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from app.core.calendar import VIETNAM_TZ, WorkingCalendar, calendar_from_settings
from app.core.config import Settings
from loadtest.model.access import agency_headers, sync_login_body
from loadtest.results_model import Audit

# Raw JSON at the harness's boundaries, named once: a dossier as the portal's API answers it
# (read where the audit fetched it), and the harness's own record of a dossier (the engine's
# DossierRecord.as_dict(), sent between Locust processes and written to ledger.json).
PortalDossier = dict[str, Any]
LedgerRecord = dict[str, Any]

FINISHED = (3, 8, 9, 10)
LOOKUP_BATCH = 500
Headers = Callable[[str], dict[str, str]]  # agency code -> its back-office headers


@dataclass
class AuditReport:
    checked: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)  # "code: what differs"
    views: dict[str, PortalDossier] = field(default_factory=dict)
    indicators_checked: int = 0  # agencies whose indicator counts were cross-checked
    not_performed: str | None = None  # why the audit could not be carried out

    @property
    def ok(self) -> bool:
        """Passed: performed, and nothing lost, doubled or mismatched."""
        return self.not_performed is None and not (self.lost or self.duplicated or self.mismatched)

    def section(self) -> Audit:
        """results.json's `audit`."""
        return Audit(
            ok=self.ok,
            performed=self.not_performed is None,
            not_performed=self.not_performed,
            checked=self.checked,
            lost=sorted(self.lost),
            duplicated=sorted(self.duplicated),
            mismatched=sorted(self.mismatched),
            indicators_checked=self.indicators_checked,
        )


@dataclass(frozen=True)
class Procedure:
    processing_time: int
    processing_unit: str


def instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VIETNAM_TZ)


def expected_deadline(
    steps: Iterable[tuple[int | None, int, datetime]],
    procedure: Procedure,
    calendar: WorkingCalendar,
) -> tuple[datetime | None, str | None]:
    """(due, timeliness) of a finished dossier from its applied steps (from, to, at), by
    domain.md's rules: the clock starts at acceptance (or when a supplement completes intake),
    pauses while a supplement is awaited, ends at the first of 9, 10, 8, 3 (at the request of a
    supplement that never came); more than one supplement request is overdue."""
    accepted: datetime | None = None
    due: datetime | None = None
    paused: datetime | None = None
    finished: datetime | None = None
    requests = 0
    unit = procedure.processing_unit
    for _, to, at in sorted(steps, key=lambda step: step[2]):
        if to == 2 or (to == 4 and accepted is None):
            accepted = at
            due = calendar.due_at(at, procedure.processing_time, unit)  # type: ignore[arg-type]
        elif to == 5 and accepted is not None:
            paused, requests = at, requests + 1
        elif to == 4 and paused is not None and due is not None:
            due, paused = calendar.add(due, calendar.between(paused, at)), None
        if to in FINISHED and finished is None:
            finished = paused or at
    if due is None or finished is None:
        return due, None
    if requests > 1 or finished > due:
        return due, "overdue"
    early = finished.astimezone(VIETNAM_TZ).date() < due.astimezone(VIETNAM_TZ).date()
    return due, "early" if early else "on_time"


def _same_minute(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) < timedelta(minutes=1)


class Auditor:
    def __init__(
        self,
        client: httpx.Client,
        *,
        headers: Headers,
        login: Callable[[str], dict[str, str]],
        sync_login: Callable[[str], dict[str, str]],
        calendar: WorkingCalendar,
        procedures: dict[str, Procedure],
        since: datetime,
        cross_check_indicators: bool = False,
    ) -> None:
        self.cross_check_indicators = cross_check_indicators
        self.client = client
        self.headers = headers
        self.login = login
        self.sync_login = sync_login
        self.calendar = calendar
        self.procedures = procedures
        self.since = since

    def run(self, ledger: dict[str, LedgerRecord], agencies: Iterable[str]) -> AuditReport:
        report = AuditReport()
        for _, record in sorted(ledger.items()):
            # A counter dossier still in its back office's outbox was never acknowledged.
            if record["channel"] == 2 or record["sync_items"] > 0:
                self._check_dossier(record, report)
        self._check_listings(ledger, set(agencies), report)
        self._check_sync(ledger, report)
        if self.cross_check_indicators:
            self._check_indicators(ledger, sorted(set(agencies)), report)
        return report

    def _check_indicators(
        self, ledger: dict[str, LedgerRecord], agencies: list[str], report: AuditReport
    ) -> None:
        """The portal's indicator counts (GET /api/v1/indicators/series) of each agency agree
        with the dossiers the harness knows: as many received, as many online, as many finished
        with a due date and on time as the portal's own views of them say. Only for a portal
        that holds this run's dossiers alone (one `portalsim run` started)."""
        today = instant(self.client.get("/api/v1/clock").raise_for_status().json()["now"])
        period = {
            "from": self.since.astimezone(VIETNAM_TZ).date().isoformat(),
            "to": today.astimezone(VIETNAM_TZ).date().isoformat(),
        }
        expected = {a: Counter[str]() for a in agencies}
        for code, record in ledger.items():
            view = report.views.get(code)
            if view is None or record["agency"] not in expected:
                continue  # lost: reported already
            counts = expected[record["agency"]]
            counts["received"] += 1
            counts["received_online"] += record["channel"] == 2
            if view["finished_at"] is not None and view["due_at"] is not None:
                counts["finished"] += 1
                counts["finished_on_time"] += view["timeliness"] in ("early", "on_time")
        for agency in agencies:
            response = self._get(
                "/api/v1/indicators/series",
                {},
                scope="agency",
                code=agency,
                step="week",
                **period,
            )
            response.raise_for_status()
            found = Counter[str]()
            for point in response.json():
                for name in ("received", "received_online", "finished", "finished_on_time"):
                    found[name] += point[name]
            report.indicators_checked += 1
            differing = [
                f"{name} {found[name]} (the harness counts {expected[agency][name]})"
                for name in ("received", "received_online", "finished", "finished_on_time")
                if found[name] != expected[agency][name]
            ]
            if differing:
                report.mismatched.append(f"indicators of {agency}: " + ", ".join(differing))

    def _get(self, path: str, headers: dict[str, str], **params: Any) -> httpx.Response:
        return self.client.get(path, headers=headers, params=params or None)

    def _check_dossier(self, record: LedgerRecord, report: AuditReport) -> None:
        code = record["code"]
        report.checked += 1
        headers = self.headers(record["agency"])
        response = self._get(f"/api/v1/agency/dossiers/{code}", headers)
        if response.status_code == 404:
            report.lost.append(code)
            return
        response.raise_for_status()
        view = response.json()
        report.views[code] = view
        expected = record["synced_status"] if record["channel"] == 1 else record["status"]
        # A payment confirmed after the payer stopped waiting moved 6 -> 4 inside the portal.
        allowed = {expected, 4} if expected == 6 else {expected}
        if view["status"] not in allowed:
            report.mismatched.append(
                f"{code}: status {view['status']}, the harness drove it to {expected}"
            )
        if record["payments_confirmed"]:
            self._check_payments(record, view, report)
        if view["status"] in FINISHED and view["due_at"] is not None:
            self._check_deadline(record, view, headers, report)

    def _check_deadline(
        self,
        record: LedgerRecord,
        view: PortalDossier,
        headers: dict[str, str],
        report: AuditReport,
    ) -> None:
        code = record["code"]
        events = self._get(f"/api/v1/agency/dossiers/{code}/events", headers).json()
        steps = [
            (e["from_status"], e["to_status"], instant(e["at"])) for e in events if e["applied"]
        ]
        due, timeliness = expected_deadline(
            steps, self.procedures[record["procedure"]], self.calendar
        )
        portal_due = instant(view["due_at"]) if view["due_at"] else None
        if not _same_minute(due, portal_due) or timeliness != view["timeliness"]:
            report.mismatched.append(
                f"{code}: the portal says due {view['due_at']}, {view['timeliness']}; "
                f"the harness computes due {due.isoformat() if due else None}, {timeliness}"
            )

    def _check_payments(
        self, record: LedgerRecord, view: PortalDossier, report: AuditReport
    ) -> None:
        code = record["code"]
        response = self._get(f"/api/v1/dossiers/{code}/payments", self.login(record["identity"]))
        response.raise_for_status()
        payments = response.json()
        confirmed = [p["txn_ref"] for p in payments if p["status"] == "success"]
        if sorted(confirmed) != sorted(set(record["payments_confirmed"])) or len(confirmed) != 1:
            report.mismatched.append(
                f"{code}: payments confirmed {confirmed}, the harness saw "
                f"{record['payments_confirmed']}"
            )
        if view["status"] == 6 or not view["paid_online"]:
            report.mismatched.append(f"{code}: paid, but the dossier did not move on")

    def _check_listings(
        self, ledger: dict[str, LedgerRecord], agencies: set[str], report: AuditReport
    ) -> None:
        """Every online dossier of the agencies in scope that this run's citizens submitted
        since the run began is one the harness saw acknowledged, and is listed once."""
        seen: Counter[str] = Counter()
        identities = {record["identity"] for record in ledger.values()}
        for agency in sorted(agencies):
            page = 1
            while True:
                response = self._get(
                    "/api/v1/agency/dossiers",
                    self.headers(agency),
                    include_acknowledged="true",
                    size=200,
                    page=page,
                )
                response.raise_for_status()
                body = response.json()
                for item in body["items"]:
                    if (
                        item["channel"] == 2
                        and instant(item["submitted_at"]) >= self.since
                        and item["applicant"].get("identifier") in identities
                    ):
                        seen[item["code"]] += 1
                if page * body["size"] >= body["total"] or not body["items"]:
                    break
                page += 1
        for code, count in sorted(seen.items()):
            if count > 1 or code not in ledger:
                report.duplicated.append(code)

    def _check_sync(self, ledger: dict[str, LedgerRecord], report: AuditReport) -> None:
        """TraCuuHoSo finds every counter dossier the portal accepted items of."""
        by_agency: dict[str, list[str]] = {}
        for code, record in ledger.items():
            if record["channel"] == 1 and record["sync_items"] > 0:
                by_agency.setdefault(record["agency"], []).append(code)
        for agency, codes in sorted(by_agency.items()):
            session = self.client.post("/api/v1/sync/login", json=self.sync_login(agency))
            session.raise_for_status()
            for start in range(0, len(codes), LOOKUP_BATCH):
                batch = codes[start : start + LOOKUP_BATCH]
                reply = self.client.post(
                    "/api/v1/sync",
                    json={
                        "session": session.json()["session"],
                        "madonvi": agency,
                        "service": "TraCuuHoSo",
                        "data": [{"MaHoSo": code} for code in batch],
                    },
                ).json()
                found = {item["MaHoSo"]: item for item in reply.get("data", [])}
                for code in batch:
                    expected = ledger[code]["synced_status"]
                    if code not in found:
                        if code not in report.lost:  # already missing from the agency view
                            report.lost.append(code)
                    elif found[code]["TrangThaiHoSo"] != expected:
                        report.mismatched.append(
                            f"{code}: TraCuuHoSo says {found[code]['TrangThaiHoSo']}, the back "
                            f"office synced {expected}"
                        )


def audit_portal(
    host: str,
    ledger: dict[str, LedgerRecord],
    *,
    agencies: Iterable[str],
    procedures: dict[str, Procedure],
    since: datetime,
    settings: Settings,
    cross_check_indicators: bool = False,
) -> AuditReport:
    """Audit the portal at `host` against a run's ledger; agency keys, sync passwords and the
    calendar come from the portal's settings (its SECRET_KEY and CALENDAR_*). With
    `cross_check_indicators`, for a portal that holds this run's dossiers alone, its indicator
    counts must agree with the ledger's too."""
    tokens: dict[str, dict[str, str]] = {}
    with httpx.Client(base_url=host, timeout=30) as client:

        def login(identity: str) -> dict[str, str]:
            if identity not in tokens:
                response = client.post(
                    "/api/v1/auth/citizen-login", json={"identifier": identity}
                ).raise_for_status()
                tokens[identity] = {"Authorization": f"Bearer {response.json()['access_token']}"}
            return tokens[identity]

        auditor = Auditor(
            client,
            headers=lambda agency: agency_headers(settings, agency),
            login=login,
            sync_login=lambda agency: sync_login_body(settings, agency),
            calendar=calendar_from_settings(settings),
            procedures=procedures,
            since=since,
            cross_check_indicators=cross_check_indicators,
        )
        return auditor.run(ledger, agencies)
