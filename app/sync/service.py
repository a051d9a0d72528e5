"""The national sync contract for back offices: log-in, whole-dossier records, progress steps
and look-ups.

A call is one transaction. Every item is validated and its effect computed before anything is
written, and an item that is refused writes nothing, so one bad item never drops the good ones
beside it and nothing is half-applied. The good items of a call commit together: if the commit
itself fails the back office gets an error for the call and resends it, which is safe because
items are idempotent. Per-item transactions would cost a round trip per item; a batch costs a
fixed number of statements whatever its size.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic

from app.accounts.identifiers import identifier_problem
from app.accounts.repository import AccountRepository
from app.catalogue.models import Procedure
from app.catalogue.repository import CatalogueRepository
from app.core.calendar import VIETNAM_TZ, WorkingCalendar
from app.core.clock import Clock
from app.core.config import Settings
from app.core.db import SessionT, WriteSession
from app.core.security import (
    ExpiredSession,
    InvalidToken,
    check_sync_credentials,
    issue_sync_session,
    read_sync_session,
)
from app.dossiers.deadlines import ProcessingTime, due_disagrees
from app.dossiers.kinds import ActorKind, EventOrigin
from app.dossiers.lifecycle import Progress, processing_of, progress_columns, progress_of
from app.dossiers.models import DossierEvent
from app.dossiers.repository import DossierRepository, DossierRow
from app.dossiers.service import code_agency, code_numbering
from app.dossiers.states import Status
from app.sync.contract import (
    ITEM_MODELS,
    MAX_BATCH,
    ContractModel,
    DossierRecord,
    ItemOutcome,
    ItemResult,
    LookUpRecord,
    ProgressStep,
    SyncCode,
    SyncLogin,
    SyncReply,
    SyncRequest,
    SyncSession,
    format_contract_date,
)
from app.sync.errors import SyncRefused
from app.sync.history import Entry, Replay, distinct, extend, reconcile, replay
from app.sync.items import (
    dump_items,
    item_key,
    record_entries,
    record_time,
    step_entry,
    validate_items,
)
from app.sync.models import SyncDailyStat, SyncItem
from app.sync.repository import SyncRepository

RECORDS, STEPS, LOOK_UP = "DongBoHoSoMC", "CapNhatTienDoHoSoMC", "TraCuuHoSo"


# A whole replay of one dossier: the result, its latest applied update before this call, its
# portal entries and its reported ones.
_Whole = tuple[Replay, datetime | None, list[Entry], list[Entry]]


@dataclass(slots=True)
class _Dossier:
    """What a call reads and writes of one dossier, stored or about to be: plain values, read
    from its row and written back in one statement for the whole call."""

    code: str
    procedure_code: str
    agency_code: str
    processing_agency_code: str | None
    processing_time: int
    processing_unit: str
    progress: Progress
    record_at: datetime | None
    claimed_due_at: datetime | None
    digitised: bool
    vneid_verified: bool
    paid_online: int
    electronic_result: bool
    id: int = 0  # a new dossier's once inserted
    # A new dossier's columns that only its INSERT sets; None for a stored one.
    opening: dict[str, Any] | None = None

    @classmethod
    def stored(cls, row: DossierRow) -> _Dossier:
        return cls(
            code=row.code,
            procedure_code=row.procedure_code,
            agency_code=row.agency_code,
            processing_agency_code=row.processing_agency_code,
            processing_time=row.processing_time,
            processing_unit=row.processing_unit,
            progress=progress_of(row),
            record_at=row.record_at,
            claimed_due_at=row.claimed_due_at,
            digitised=row.digitised,
            vneid_verified=row.vneid_verified,
            paid_online=row.paid_online,
            electronic_result=row.electronic_result,
            id=row.id,
        )

    # The clock's view of it (lifecycle.StoredProgress), from its progress.
    @property
    def status(self) -> int:
        return int(self.progress.status)

    @property
    def accepted_at(self) -> datetime | None:
        return self.progress.accepted_at

    @property
    def due_at(self) -> datetime | None:
        return self.progress.due_at

    @property
    def paused_at(self) -> datetime | None:
        return self.progress.paused_at

    @property
    def supplement_requests(self) -> int:
        return self.progress.supplement_requests

    @property
    def finished_at(self) -> datetime | None:
        return self.progress.finished_at

    @property
    def returned_at(self) -> datetime | None:
        return self.progress.returned_at

    @property
    def processing(self) -> ProcessingTime:
        return processing_of(self)

    def columns(self, now: datetime) -> dict[str, Any]:
        """The columns a sync call sets, as they are now."""
        return progress_columns(self.progress) | {
            "processing_agency_code": self.processing_agency_code,
            "record_at": self.record_at,
            "claimed_due_at": self.claimed_due_at,
            "digitised": self.digitised,
            "vneid_verified": self.vneid_verified,
            "paid_online": self.paid_online,
            "electronic_result": self.electronic_result,
            "synced_at": now,
            "updated_at": now,
        }


@dataclass
class _Item:
    """One item of the call on its way through: parsed, judged, and finally answered."""

    index: int
    code: str | None
    model: ContractModel | None = None
    key: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)  # the history it tells
    at: datetime | None = None  # the update's own time (a record's latest date)
    result: ItemResult | None = None

    def answer(
        self, code: SyncCode, result: ItemOutcome, message: str, status: int | None = None
    ) -> None:
        self.result = ItemResult(
            MaHoSo=self.code,
            error_code=int(code),
            message=message,
            result=result,
            TrangThaiHoSo=status,
        )


class SyncService(Generic[SessionT]):
    def __init__(
        self,
        repository: SyncRepository[SessionT],
        catalogue: CatalogueRepository[SessionT],
        accounts: AccountRepository[SessionT],
        dossiers: DossierRepository[SessionT],
        *,
        settings: Settings,
        calendar: WorkingCalendar,
        clock: Clock,
    ) -> None:
        self.repository = repository
        self.catalogue = catalogue
        self.accounts = accounts
        self.dossiers = dossiers
        self.settings = settings
        self.calendar = calendar
        self.clock = clock

    # -- the call --------------------------------------------------------------------------

    async def login(self, body: SyncLogin) -> SyncSession:
        known = await self.catalogue.existing_agencies([body.username])
        if not known or not check_sync_credentials(self.settings, body.username, body.password):
            raise SyncRefused(SyncCode.BAD_CREDENTIALS, "wrong username or password", 401)
        session, expires_at = issue_sync_session(self.settings, body.username)
        return SyncSession(
            error_code=int(SyncCode.OK),
            message="Đăng nhập thành công",
            session=session,
            madonvi=body.username,
            expires_at=format_contract_date(expires_at),
        )

    async def daily_stats(
        self, *, agency_code: str | None, since: date | None, until: date | None
    ) -> Sequence[SyncDailyStat]:
        return await self.repository.daily_stats(agency_code=agency_code, since=since, until=until)

    async def handle(self: SyncService[WriteSession], request: SyncRequest) -> SyncReply:
        agency = self._agency_of(request)
        if request.service not in ITEM_MODELS:
            raise SyncRefused(
                SyncCode.UNKNOWN_SERVICE,
                f"unknown service {request.service!r}; one of {', '.join(ITEM_MODELS)}",
                422,
            )
        if not 1 <= len(request.data) <= MAX_BATCH:
            raise SyncRefused(
                SyncCode.BATCH_SIZE,
                f"data holds 1 to {MAX_BATCH} items, not {len(request.data)}",
                413,
            )
        items = self._parse(request.service, request.data, agency)
        valid = [item for item in items if item.result is None]
        data: list[LookUpRecord] = []
        disagreements = 0
        if request.service == LOOK_UP:
            data = await self._look_up(agency, valid)
        else:
            disagreements = await self._apply(agency, request.service, valid)
        results = [item.result for item in items if item.result is not None]
        if request.service != LOOK_UP:
            # Every item under exactly one outcome, so that the day's figures add up:
            # items = created + updated + duplicates + stale + refused.
            outcome = Counter(r.result for r in results)
            counts = {
                "items": len(results),
                "created": outcome["created"],
                "updated": outcome["applied"],
                "duplicates": outcome["duplicate"],
                "stale": outcome["stale"],
                "refused": outcome["refused"],
                "due_disagreements": disagreements,
            }
            day = self.clock.now().astimezone(VIETNAM_TZ).date()
            await self.repository.count_day(agency, day, counts)
        refused = sum(1 for r in results if r.error_code != SyncCode.OK)
        return SyncReply(
            error_code=int(SyncCode.OK),
            message=f"{len(results) - refused} accepted, {refused} refused",
            results=results,
            data=data,
        )

    def _agency_of(self, request: SyncRequest) -> str:
        try:
            agency = read_sync_session(self.settings, request.session)
        except ExpiredSession as exc:
            raise SyncRefused(SyncCode.SESSION_EXPIRED, str(exc), 401) from exc
        except InvalidToken as exc:
            raise SyncRefused(SyncCode.BAD_SESSION, str(exc), 401) from exc
        if request.madonvi != agency:
            raise SyncRefused(
                SyncCode.WRONG_AGENCY,
                f"madonvi {request.madonvi!r} is not the session's agency {agency!r}",
                403,
            )
        return agency

    def _parse(self, service: str, data: list[Any], agency: str) -> list[_Item]:
        """The call's items, validated together; a refused one is answered here."""
        items = []
        for index, (raw, model) in enumerate(zip(data, validate_items(service, data), strict=True)):
            code = raw.get("MaHoSo") if isinstance(raw, dict) else None
            item = _Item(index=index, code=code if isinstance(code, str) else None)
            if isinstance(model, str):
                item.answer(SyncCode.INVALID_ITEM, "refused", model)
            else:
                item.model = model
            items.append(item)
        valid = [item for item in items if item.model is not None]
        payloads = dump_items(service, [item.model for item in valid if item.model is not None])
        for item, payload in zip(valid, payloads, strict=True):
            item.payload = payload
            item.code = payload["MaHoSo"]
            item.key = item_key(service, payload)
            if isinstance(item.model, DossierRecord):
                item.at = record_time(item.model)
                item.entries = record_entries(item.model, item.key, agency)
            elif isinstance(item.model, ProgressStep):
                item.at = item.model.ThoiDiemXuLy
                item.entries = [step_entry(item.model, item.key, agency)]
        return items

    # -- look-ups --------------------------------------------------------------------------

    async def _look_up(self, agency: str, items: list[_Item]) -> list[LookUpRecord]:
        found = await self.repository.dossiers((i.code for i in items if i.code), for_update=False)
        data = []
        for item in items:
            dossier = found.get(item.code or "")
            if dossier is None or agency not in (
                dossier.agency_code,
                dossier.processing_agency_code,
            ):
                # Another agency's dossier looks like a missing one: codes cannot be probed.
                item.answer(SyncCode.DOSSIER_NOT_FOUND, "refused", "no such dossier of yours")
                continue
            item.answer(
                SyncCode.OK, "found", f"found: the dossier is at {dossier.status}", dossier.status
            )
            data.append(contract_view(dossier))
        return data

    # -- records and steps -----------------------------------------------------------------

    async def _apply(
        self: SyncService[WriteSession], agency: str, service: str, items: list[_Item]
    ) -> int:
        """Apply records or steps; answers every item and returns how many dossiers now show a
        due date that the back office reports otherwise."""
        now = self.clock.now()
        disagreements = 0
        codes = sorted({item.code for item in items if item.code})
        await self.repository.lock_dossier_codes(codes)
        dossiers = {
            code: _Dossier.stored(row)
            for code, row in (await self.repository.dossiers(codes, for_update=True)).items()
        }
        records = [i.model for i in items if isinstance(i.model, DossierRecord)]
        procedures = await self.catalogue.procedures_by_code(
            {r.MaTTHC for r in records} | {d.procedure_code for d in dossiers.values()}
        )
        agencies = await self.catalogue.existing_agencies(
            {code_agency(code) for code in codes} | {r.DonViXuLy for r in records if r.DonViXuLy}
        )
        groups: dict[str, list[_Item]] = defaultdict(list)
        for item in items:
            if self._admissible(agency, item, dossiers, procedures, agencies):
                groups[item.code or ""].append(item)

        created = await self._create(agency, groups, dossiers, procedures, agencies, now)
        existing_ids = [d.id for code, d in dossiers.items() if code not in created]
        received = await self.repository.received_keys(existing_ids, (i.key for i in items))
        ends = await self.repository.history_ends(existing_ids)

        # Most dossiers' news lies after their whole history: those extend from where they are,
        # without reading it (history.extend). The others replay everything they were told.
        split: dict[str, tuple[list[_Item], list[_Item]]] = {}
        results: dict[str, tuple[Replay, datetime | None]] = {}
        for code, group in sorted(groups.items()):
            dossier = dossiers[code]
            split[code] = fresh, _ = self._drop_duplicates(group, received[dossier.id])
            end = ends.get(dossier.id)
            if fresh and end is not None and not end.held_back:
                extended = extend(
                    dossier.progress,
                    [entry for item in fresh for entry in item.entries],
                    after=end.last_at,
                    calendar=self.calendar,
                    processing=dossier.processing,
                )
                if extended is not None:
                    results[code] = (extended, end.last_at)
        whole = {code for code, (fresh, _) in split.items() if fresh and code not in results}
        replays, stored = await self._replay_whole(
            {code: dossiers[code] for code in whole}, split, created
        )
        results |= {code: (result, last) for code, (result, last, _, _) in replays.items()}

        received_now: list[tuple[_Dossier, list[_Item]]] = []
        extended_from: dict[int, tuple[Replay, int]] = {}
        for code, (fresh, duplicates) in sorted(split.items()):
            dossier = dossiers[code]
            if not fresh:
                self._answer_duplicates(duplicates, dossier.status)
                continue
            result, previous_last = results[code]
            if code not in whole:
                extended_from[dossier.id] = (result, dossier.status)
            assert result.progress is not None  # every dossier's history starts with its submission
            dossier.progress = result.progress
            disagreements += self._take_record_facts(dossier, fresh, agencies)
            self._judge(fresh, result, previous_last, code in created)
            self._answer_duplicates(duplicates, dossier.status)
            received_now.append((dossier, fresh))
        await self._write_dossiers(received_now, now)
        new_items = [
            {
                "dossier_id": dossier.id,
                "agency_code": agency,
                "service": service,
                "item_key": item.key,
                "item_at": _item_time(item),
                "received_at": now,
                "payload": item.payload,
            }
            for dossier, fresh in received_now
            for item in fresh
        ]
        item_ids = {(i.dossier_id, i.item_key): i.id for i in stored}
        item_ids |= await self.repository.insert_items(new_items)
        await self._rebuild_events(
            {
                dossiers[code].id: (r, portal, told)
                for code, (r, _, portal, told) in replays.items()
            },
            item_ids,
        )
        await self.repository.insert_events(
            [
                row
                for dossier_id, (result, status) in extended_from.items()
                for row in _applied_events(dossier_id, result.applied, status, item_ids)
            ]
        )
        await self._reserve_codes(created.values())
        return disagreements

    async def _write_dossiers(
        self: SyncService[WriteSession], received: list[tuple[_Dossier, list[_Item]]], now: datetime
    ) -> None:
        """The dossiers that took news: new ones inserted (their ids set), stored ones updated,
        one statement each."""
        opened = [d for d, _ in received if d.opening is not None]
        ids = await self.repository.insert_dossiers(
            [(d.opening or {}) | d.columns(now) for d in opened]
        )
        for dossier in opened:
            dossier.id = ids[dossier.code]
        await self.repository.update_dossiers(
            [{"id": d.id} | d.columns(now) for d, _ in received if d.opening is None]
        )

    async def _replay_whole(
        self,
        dossiers: dict[str, _Dossier],
        split: dict[str, tuple[list[_Item], list[_Item]]],
        created: dict[str, _Dossier],
    ) -> tuple[dict[str, _Whole], Sequence[SyncItem]]:
        """Each dossier's state from every update it was ever told, the fresh ones with them
        (history.reconcile): its replay, the time of its latest applied update before, its
        portal entries and its reported ones; and the stored items that were read."""
        ids = [d.id for code, d in dossiers.items() if code not in created]
        stored = await self.repository.items(ids) if ids else ()
        events = await self.repository.events(ids) if ids else ()
        stored_by_dossier: dict[int, list[SyncItem]] = defaultdict(list)
        for stored_item in stored:
            stored_by_dossier[stored_item.dossier_id].append(stored_item)
        events_by_dossier: dict[int, list[DossierEvent]] = defaultdict(list)
        for event in events:
            events_by_dossier[event.dossier_id].append(event)
        replays: dict[str, _Whole] = {}
        for code, dossier in dossiers.items():
            portal = [
                _portal_entry(e)
                for e in events_by_dossier[dossier.id]
                if e.origin == EventOrigin.PORTAL
            ]
            known = portal + [
                entry
                for s in stored_by_dossier[dossier.id]
                for entry in _entries(s.service, s.payload, s.item_key, s.agency_code)
            ]
            applied = frozenset(
                (e.at, Status(e.to_status)) for e in events_by_dossier[dossier.id] if e.applied
            )
            new = [entry for item in split[code][0] for entry in item.entries]
            result = reconcile(
                known, applied, new, calendar=self.calendar, processing=dossier.processing
            )
            reported = [e for e in [*known, *new] if e.origin == EventOrigin.SYNC]
            previous_last = max((at for at, _ in applied), default=None)
            replays[code] = (result, previous_last, portal, reported)
        return replays, stored

    def _admissible(
        self,
        agency: str,
        item: _Item,
        dossiers: dict[str, _Dossier],
        procedures: dict[str, Procedure],
        agencies: set[str],
    ) -> bool:
        """Refuse, with its own code, an item that cannot apply whatever the history."""
        dossier = dossiers.get(item.code or "")
        model = item.model
        if isinstance(model, ProgressStep):
            if dossier is None:
                item.answer(SyncCode.DOSSIER_NOT_FOUND, "refused", "no dossier with this code yet")
                return False
        elif isinstance(model, DossierRecord):
            if model.MaTTHC not in procedures:
                item.answer(
                    SyncCode.UNKNOWN_PROCEDURE, "refused", f"unknown procedure {model.MaTTHC}"
                )
                return False
            problem = identifier_problem(model.applicant_kind, model.SoDinhDanh)
            if problem:
                item.answer(SyncCode.INVALID_ITEM, "refused", f"SoDinhDanh: {problem}")
                return False
            if dossier is not None and dossier.procedure_code != model.MaTTHC:
                item.answer(
                    SyncCode.CODE_CONFLICT,
                    "refused",
                    f"{model.MaHoSo} is a dossier of procedure {dossier.procedure_code}",
                )
                return False
            told = replay(
                item.entries,
                calendar=self.calendar,
                processing=ProcessingTime(1, "working_day"),
            )
            if told.refused or told.progress is None or told.progress.status != model.TrangThaiHoSo:
                item.answer(
                    SyncCode.INCONSISTENT_HISTORY,
                    "refused",
                    f"the record's dates do not lead to TrangThaiHoSo {model.TrangThaiHoSo}",
                )
                return False
        if dossier is None:
            assert isinstance(model, DossierRecord)
            return self._may_open(agency, item, model.MaHoSo, agencies)
        if agency not in (dossier.agency_code, dossier.processing_agency_code):
            item.answer(
                SyncCode.OTHER_AGENCYS_DOSSIER,
                "refused",
                f"agency {agency} neither receives nor processes {item.code}",
            )
            return False
        return True

    def _may_open(self, agency: str, item: _Item, code: str, agencies: set[str]) -> bool:
        """A back office opens only dossiers of its own: a code headed by another agency is that
        agency's (whatever DonViXuLy says), and a code in the portal's numbering must be one the
        portal could have made (a real day, at most SEQUENCE_DIGITS digits), since it moves the
        agency's counter past its number."""
        receiving = _receiving_agency(code, agency, agencies)
        if receiving != agency:
            item.answer(
                SyncCode.OTHER_AGENCYS_DOSSIER,
                "refused",
                f"{code} is numbered by agency {receiving}: only its back office opens it",
            )
            return False
        try:
            code_numbering(code)
        except ValueError as exc:
            item.answer(SyncCode.INVALID_ITEM, "refused", f"MaHoSo: {code}: {exc}")
            return False
        return True

    async def _create(
        self: SyncService[WriteSession],
        agency: str,
        groups: dict[str, list[_Item]],
        dossiers: dict[str, _Dossier],
        procedures: dict[str, Procedure],
        agencies: set[str],
        now: datetime,
    ) -> dict[str, _Dossier]:
        """Dossiers that began at a back office, from their newest record. Records in the same
        call that give the new code another procedure conflict with it, as they would in a
        later call."""
        newest: dict[str, DossierRecord] = {}
        for code, group in groups.items():
            if code in dossiers:
                continue
            newest_item = max(
                (i for i in group if isinstance(i.model, DossierRecord)), key=_item_time
            )
            assert isinstance(newest_item.model, DossierRecord)
            newest[code] = newest_item.model
            for item in list(group):
                model = item.model
                if isinstance(model, DossierRecord) and model.MaTTHC != newest[code].MaTTHC:
                    item.answer(
                        SyncCode.CODE_CONFLICT,
                        "refused",
                        f"{code} is a dossier of procedure {newest[code].MaTTHC}",
                    )
                    group.remove(item)
        owners = await self.accounts.ensure(
            [
                {
                    "kind": r.applicant_kind,
                    "identifier": r.SoDinhDanh,
                    "full_name": r.ChuHoSo,
                    "created_at": now,
                }
                for r in newest.values()
            ]
        )
        created = {}
        for code, record in newest.items():
            procedure = procedures[record.MaTTHC]
            receiving = _receiving_agency(code, agency, agencies)
            opening: dict[str, Any] = {
                "code": code,
                "procedure_code": procedure.code,
                "agency_code": receiving,
                "owner_id": owners[record.SoDinhDanh],
                "channel": record.KenhThucHien,
                "processing_time": procedure.processing_time,
                "processing_unit": procedure.processing_unit,
                "applicant": {
                    "full_name": record.ChuHoSo,
                    "identifier": record.SoDinhDanh,
                    "kind": record.applicant_kind,
                },
                "form": {},
                "submitted_at": record.NgayNopHoSo,
            }
            created[code] = _Dossier(
                code=code,
                procedure_code=procedure.code,
                agency_code=receiving,
                processing_agency_code=None,
                processing_time=procedure.processing_time,
                processing_unit=procedure.processing_unit,
                progress=Progress(Status.SUBMITTED),
                record_at=None,
                claimed_due_at=None,
                digitised=False,
                vneid_verified=False,
                paid_online=0,
                electronic_result=False,
                opening=opening,
            )
        # Not inserted yet: the caller inserts them once their replay has set their state, one
        # INSERT for all instead of an INSERT and then an UPDATE.
        dossiers.update(created)
        return created

    def _drop_duplicates(
        self, group: list[_Item], received: set[str]
    ) -> tuple[list[_Item], list[_Item]]:
        """The group's items not received before, and those that were (or repeat one of this
        call)."""
        seen = set(received)
        fresh, duplicates = [], []
        for item in group:
            if item.key in seen:
                duplicates.append(item)
            else:
                seen.add(item.key)
                fresh.append(item)
        return fresh, duplicates

    def _answer_duplicates(self, items: list[_Item], status: int) -> None:
        for item in items:
            item.answer(
                SyncCode.OK,
                "duplicate",
                f"duplicate: already received, nothing changed; the dossier is at {status}",
                status,
            )

    def _take_record_facts(self, dossier: _Dossier, items: list[_Item], agencies: set[str]) -> int:
        """The newest record, if newer than what the dossier shows, sets the facts only records
        carry; returns 1 if its claimed due date disagrees with the portal's, by day."""
        records = [i for i in items if isinstance(i.model, DossierRecord)]
        if not records:
            return 0
        newest = max(records, key=_item_time)
        record, taken = newest.model, _item_time(newest)
        assert isinstance(record, DossierRecord)
        if dossier.record_at is not None and taken <= dossier.record_at:
            return 0
        dossier.record_at = taken
        dossier.claimed_due_at = record.NgayHenTra
        if record.DonViXuLy in agencies:
            dossier.processing_agency_code = record.DonViXuLy
        dossier.digitised = bool(record.HoSoCoThanhPhanSoHoa)
        dossier.vneid_verified = bool(record.TaiKhoanDuocXacThucVoiVNeID)
        dossier.paid_online = record.DuocThanhToanTrucTuyen
        dossier.electronic_result = bool(record.DanhSachGiayToKetQua)
        return int(due_disagrees(dossier.claimed_due_at, dossier.progress.due_at))

    def _judge(
        self,
        items: list[_Item],
        result: Replay,
        previous_last: datetime | None,
        created: bool,
    ) -> None:
        """Answer each fresh item of one dossier with its own outcome and the status after it
        at its place in the replayed history; the message also says where the dossier is now.
        Of a new dossier, the first applied item (in the call's order) is the one that created
        it, so that `created` counts dossiers as well as items."""
        assert result.progress is not None
        now = int(result.progress.status)
        applied = {e.identity for e in result.applied}
        orders = [e.order for e in result.applied]
        opener_found = not created
        for item in items:
            said = item.entries[-1]
            if previous_last is not None and _item_time(item) < previous_last:
                item.answer(
                    SyncCode.OK,
                    "stale",
                    "stale: older than the dossier's latest update "
                    f"({format_contract_date(previous_last)}), so the current status ({now}) "
                    "is not changed by it; kept in the history, where it counts (e.g. a pause) "
                    "once the steps around it are known",
                    now,
                )
            elif said.identity in applied:
                outcome: ItemOutcome = "applied" if opener_found else "created"
                opener_found = True
                reached = int(said.status)
                where = (
                    f"the dossier is at {now}"
                    if reached == now
                    else f"status {reached} at {format_contract_date(said.at)}; later steps "
                    f"moved the dossier on to {now}"
                )
                item.answer(SyncCode.OK, outcome, f"{outcome}: {where}", reached)
            else:
                # The first step of the item that the history does not allow where it falls.
                missing = next(e for e in item.entries if e.identity not in applied)
                before = bisect_left(orders, missing.order) - 1
                stayed = int(result.applied[before].status) if before >= 0 else None
                item.answer(
                    SyncCode.ILLEGAL_TRANSITION,
                    "refused",
                    f"illegal transition {stayed} -> {int(missing.status)} at "
                    f"{format_contract_date(missing.at)}: kept in the history, applied if the "
                    f"missing steps arrive; the dossier is at {now}",
                    stayed,
                )

    async def _rebuild_events(
        self: SyncService[WriteSession],
        replays: dict[int, tuple[Replay, list[Entry], list[Entry]]],
        item_ids: dict[tuple[int, str], int],
    ) -> None:
        """The reported part of each replayed dossier's timeline, rebuilt: what the replay
        applied, in order, then every other reported step, kept but not applied."""
        if not replays:
            return
        await self.repository.drop_sync_events(list(replays))
        rows: list[dict[str, Any]] = []
        for dossier_id, (result, portal, reported) in replays.items():
            shown = {e.identity for e in portal}
            previous: int | None = None
            for entry in result.applied:
                if entry.identity not in shown:
                    rows.append(_event(dossier_id, entry, previous, True, item_ids))
                    shown.add(entry.identity)
                previous = int(entry.status)
            for entry in distinct(reported):
                if entry.identity not in shown:
                    rows.append(_event(dossier_id, entry, None, False, item_ids))
                    shown.add(entry.identity)
        await self.repository.insert_events(rows)

    async def _reserve_codes(self: SyncService[WriteSession], created: Iterable[_Dossier]) -> None:
        """Codes a back office gave in the portal's own shape keep the portal's numbering of
        that agency's day past them, so that an online submission never collides."""
        highest: dict[tuple[str, date], int] = {}
        for dossier in created:
            # Admitted codes are well formed (_may_open).
            numbering = code_numbering(dossier.code)
            if numbering is not None and code_agency(dossier.code) == dossier.agency_code:
                day, number = numbering
                key = (dossier.agency_code, day)
                highest[key] = max(highest.get(key, 0), number)
        for (agency_code, day), number in highest.items():
            await self.dossiers.reserve_sequence(agency_code, day, number)


def contract_view(dossier: DossierRow) -> LookUpRecord:
    """A dossier as TraCuuHoSo returns it: the portal's own state and due date, with the back
    office's claimed due date beside it."""

    def date_or_none(value: datetime | None) -> str | None:
        return format_contract_date(value) if value else None

    return LookUpRecord(
        MaHoSo=dossier.code,
        MaTTHC=dossier.procedure_code,
        TrangThaiHoSo=dossier.status,
        KenhThucHien=dossier.channel,
        ChuHoSo=dossier.applicant.get("full_name"),
        SoDinhDanh=dossier.applicant.get("identifier"),
        NgayNopHoSo=date_or_none(dossier.submitted_at),
        NgayTiepNhan=date_or_none(dossier.accepted_at),
        NgayHenTra=date_or_none(dossier.due_at),
        NgayHenTraBaoCao=date_or_none(dossier.claimed_due_at),
        NgayKetThucXuLy=date_or_none(dossier.finished_at),
        NgayTra=date_or_none(dossier.returned_at),
        DonViXuLy=dossier.processing_agency_code,
        DuocThanhToanTrucTuyen=dossier.paid_online,
    )


def _entries(service: str, payload: dict[str, Any], key: str, agency: str) -> list[Entry]:
    if service == RECORDS:
        return record_entries(DossierRecord.model_validate(payload), key, agency)
    return [step_entry(ProgressStep.model_validate(payload), key, agency)]


def _item_time(item: _Item) -> datetime:
    assert item.at is not None  # set when the item was parsed
    return item.at


def _receiving_agency(code: str, syncing: str, known: set[str]) -> str:
    """The agency whose identifier heads the code, if it is one; else the agency syncing (a
    numbering of the back office's own)."""
    head = code_agency(code)
    return head if head in known else syncing


def _portal_entry(event: DossierEvent) -> Entry:
    return Entry(
        at=event.at,
        status=Status(event.to_status),
        origin=EventOrigin.PORTAL,
        key=f"portal-{event.id}",
        actor=event.actor,
        note=event.note,
    )


def _applied_events(
    dossier_id: int,
    entries: Iterable[Entry],
    status: int,
    item_ids: dict[tuple[int, str], int],
) -> list[dict[str, Any]]:
    """The timeline's new end: each entry applied in turn from `status`."""
    rows = []
    for entry in entries:
        rows.append(_event(dossier_id, entry, status, True, item_ids))
        status = int(entry.status)
    return rows


def _event(
    dossier_id: int,
    entry: Entry,
    from_status: int | None,
    applied: bool,
    item_ids: dict[tuple[int, str], int],
) -> dict[str, Any]:
    return {
        "dossier_id": dossier_id,
        "from_status": from_status,
        "to_status": int(entry.status),
        "actor_kind": ActorKind.AGENCY,
        "actor": entry.actor[:40],
        "at": entry.at,
        "note": entry.note,
        "origin": EventOrigin.SYNC,
        "applied": applied,
        "sync_item_id": item_ids.get((dossier_id, entry.key)),
        "details": dict(entry.details) or None,
    }
