"""The back office for dossiers received at the counter: its officers work them like online
ones, and it pushes every dossier and every step to the portal on the national sync contract,
in batches (`DongBoHoSoMC`, then `CapNhatTienDoHoSoMC`), resending and reordering some items
as real back offices do."""

from __future__ import annotations

import time
from typing import Any

from app.core.calendar import VIETNAM_TZ
from app.sync.contract import SyncReply, format_contract_date
from loadtest.drive.engine import DossierRecord, Task
from loadtest.drive.runtime import this_process
from loadtest.drive.users.backoffice import service_hours
from loadtest.drive.users.base import ActorUser, Rejected, logger

RECORDS, STEPS = "DongBoHoSoMC", "CapNhatTienDoHoSoMC"
SESSION_EXPIRED = 3
KEPT_OUT_OF_ORDER = 13  # illegal from the current status: kept, applied once the gap fills
ACCEPTED_RESULTS = ("created", "applied", "duplicate", "stale")


class SyncBackOffice(ActorUser):
    actor = "sync"

    def on_counter(self, current: Task) -> None:
        """A dossier received at the counter: taken in at once, queued for an officer."""
        sim = self.sim
        agency, procedure = current.data["agency"], sim.world.procedures[current.data["procedure"]]
        now = sim.sim_datetime()
        day = now.astimezone(VIETNAM_TZ).strftime("%y%m%d")
        sim.counter_numbers[(agency, day)] += 1
        # Not the portal's own numbering (<agency>-<YYMMDD>-<NNNN>), so that counter codes never
        # take an online dossier's number; the run's salt keeps reruns apart.
        code = f"{agency}-{day}-Q{sim.world.salt}{sim.counter_numbers[(agency, day)]:04d}"
        identity = f"079{sim.rng(agency).randrange(10**9):09d}"
        due = sim.calendar.due_at(now, procedure.processing_time, procedure.processing_unit)  # type: ignore[arg-type]
        received = format_contract_date(now)
        record = sim.record(
            DossierRecord(
                code=code,
                agency=agency,
                procedure=procedure.code,
                channel=1,
                identity=identity,
                status=4,
                submitted_real=time.time(),
                submitted_at=now.isoformat(),
                accepted_at=now.isoformat(),
                procedure_hours=procedure.legal_hours,
                events=[[4, now.isoformat()]],
            )
        )
        sim.outbox[agency].append(
            {
                "service": RECORDS,
                "created": time.time(),
                "item": {
                    "MaHoSo": code,
                    "MaTTHC": procedure.code,
                    "TenTTHC": procedure.name,
                    "MaLinhVuc": procedure.field,
                    "ChuHoSo": "Công dân tại quầy",
                    "LoaiDoiTuong": 1,
                    "SoDinhDanh": identity,
                    "KenhThucHien": 1,
                    "TrangThaiHoSo": 4,
                    "NgayNopHoSo": received,
                    "NgayTiepNhan": received,
                    "NgayHenTra": format_contract_date(due),
                    "HoSoCoThanhPhanSoHoa": 1,
                },
            }
        )
        _, done = sim.officers[agency].assign(now, service_hours(sim, record))
        sim.later("sync", "step", done, code=code)

    def on_step(self, current: Task) -> None:
        """The officer is done (9, or 8 for a stopped one), later the result is returned (10)."""
        sim = self.sim
        record = sim.ledger[current.data["code"]]
        now = sim.sim_datetime()
        if record.status == 4:
            stopped = sim.rng(record.agency).random() < sim.workload.backoffice.stop_probability
            status = 8 if stopped else 9
        else:
            status = 10
        record.events.append([status, now.isoformat()])
        record.status = status
        if status in (8, 9):
            record.finished_real = time.time()
        else:
            record.returned_real = time.time()
        sim.touch(record.code)
        sim.outbox[record.agency].append(
            {
                "service": STEPS,
                "created": time.time(),
                "item": {
                    "MaHoSo": record.code,
                    "TrangThai": status,
                    "ThoiDiemXuLy": format_contract_date(now),
                    "NguoiXuLy": "Cán bộ một cửa",
                    "ChucDanh": "Công chức",
                    "NoiDungXuLy": {8: "Dừng xử lý", 9: "Đã xử lý xong", 10: "Đã trả kết quả"}[
                        status
                    ],
                },
            }
        )
        if status == 9:
            delay = sim.rng(record.agency).expovariate(
                1 / max(sim.workload.backoffice.return_delay_hours, 1e-6)
            )
            sim.after_working_hours("sync", "step", delay, code=record.code)

    def session(self, agency: str, *, renew: bool = False) -> str:
        if renew or agency not in self.sim.sync_sessions:
            body = self.call(
                "POST /api/v1/sync/login",
                "/api/v1/sync/login",
                json=this_process.sync_login(agency),
                check=lambda b: None if b.get("session") else f"no session: {b}",
            )
            self.sim.sync_sessions[agency] = body["session"]
        return self.sim.sync_sessions[agency]

    def on_push(self, current: Task) -> None:
        """One push of the agency's outbox: its records first, then its steps. Pushes of one
        agency never overlap (a step must not overtake its dossier's record), and what a failed
        call did not deliver goes back to the outbox, to be sent with the next push."""
        sim, rules = self.sim, self.sim.workload.sync
        agency = current.data["agency"]
        with sim.lock(f"push:{agency}"):
            pending, sim.outbox[agency] = sim.outbox[agency], []
            delivered: set[int] = set()
            refused: list[str] = []
            try:
                for service in (RECORDS, STEPS):
                    entries = [e for e in pending if e["service"] == service]
                    earlier = [e for e in sim.sent[agency] if e["service"] == service]
                    rng = sim.rng(agency)
                    resends = [e for e in earlier if rng.random() < rules.resend_probability]
                    if service == STEPS and rng.random() < rules.reorder_probability:
                        rng.shuffle(entries)
                    for start in range(0, len(entries), rules.batch_max):
                        batch = entries[start : start + rules.batch_max]
                        refused += self.send(
                            agency, service, batch, resends[: rules.batch_max - len(batch)]
                        )
                        delivered.update(id(e) for e in batch)
                    sim.sent[agency] = (sim.sent[agency] + entries)[-200:]
            finally:
                undelivered = [e for e in pending if id(e) not in delivered]
                sim.outbox[agency] = undelivered + sim.outbox[agency]
        if refused:  # delivered, answered, and refused: a finding, not to be sent again
            logger.warning("%s: %d item(s) refused: %s", agency, len(refused), "; ".join(refused))
            raise Rejected(f"sync push of {agency}: {len(refused)} item(s) refused")

    def send(
        self, agency: str, service: str, batch: list[dict[str, Any]], resends: list[dict[str, Any]]
    ) -> list[str]:
        """One call; the refused items of `batch`, each with the portal's reason."""
        sim = self.sim
        items = [e["item"] for e in batch] + [e["item"] for e in resends]
        envelope = {"madonvi": agency, "service": service, "isUpdating": False, "data": items}
        reply = self._post(agency, envelope)
        if reply["error_code"] == SESSION_EXPIRED:
            reply = self._post(agency, envelope, renew=True)
        results = reply["results"]
        sent_at = time.time()
        refused = []
        for entry, result in zip(batch, results, strict=False):
            item = entry["item"]
            record = sim.ledger.get(item["MaHoSo"])
            if result["error_code"] == 0 and result["result"] in ACCEPTED_RESULTS:
                sim.book.count("sync.accepted")
            elif result["error_code"] == KEPT_OUT_OF_ORDER:
                # A step ahead of its predecessors (a reordered batch): the portal keeps it in
                # the history and applies it once the missing steps are in.
                sim.book.count("sync.kept")
            else:
                sim.book.count("sync.refused")
                refused.append(f"{item['MaHoSo']}: {result['error_code']} {result['message']}")
                continue
            sim.book.observe("sync.lag", (sent_at - entry["created"]) * 1000)
            if record is not None:
                at = item.get("ThoiDiemXuLy") or item["NgayTiepNhan"]
                if at >= record.synced_at:
                    record.synced_at = at
                    record.synced_status = item.get("TrangThai") or item["TrangThaiHoSo"]
                record.sync_items += 1
                sim.touch(record.code)
        sim.book.count("sync.items", len(batch))
        sim.book.count("sync.resent", len(resends))
        return [f"{service} {line}" for line in refused]

    def _post(self, agency: str, envelope: dict[str, Any], *, renew: bool = False) -> Any:
        service = envelope["service"]
        return self.call(
            f"POST /api/v1/sync {service}",
            "/api/v1/sync",
            json={"session": self.session(agency, renew=renew), **envelope},
            schema=SyncReply,
            check=lambda b: (
                None
                if b["error_code"] in (0, SESSION_EXPIRED)
                and len(b["results"]) == len(envelope["data"])
                else f"call refused: {b['error_code']} {b['message']}"
            ),
        )
