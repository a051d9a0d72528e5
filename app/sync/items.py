"""From contract items to history entries (pure).

A whole-dossier record (DongBoHoSoMC) restates the dossier's history through its dates:
submitted at NgayNopHoSo, accepted (and processing) at NgayTiepNhan, each supplement requested
at NgayBoSung and handed in at NgayTiepNhanBoSung, ended at NgayKetThucXuLy, returned at NgayTra.
Statuses without a date of their own in the contract (fees requested, withdrawal requested)
take the record's time. A progress step (CapNhatTienDoHoSoMC) is one entry.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from app.dossiers.kinds import EventOrigin
from app.dossiers.states import Status
from app.sync.contract import ITEM_MODELS, ContractModel, DossierRecord, ProgressStep
from app.sync.history import Entry

S = Status

# One validator for a call's items: a list is validated in one pass instead of one call a item.
_BATCHES: dict[str, TypeAdapter[list[Any]]] = {
    service: TypeAdapter(list[model])  # type: ignore[valid-type]  # a model per service
    for service, model in ITEM_MODELS.items()
}


def validate_items(service: str, raw: list[Any]) -> list[ContractModel | str]:
    """Each item of a call as its service's model, or, for an item that breaks the contract,
    why: "field: message" of its first error, as if it had been validated alone."""
    batch = _BATCHES[service]
    try:
        return list(batch.validate_python(raw))
    except ValidationError as exc:
        problems: dict[int, str] = {}
        for error in exc.errors():
            index, *where = error["loc"]
            field = ".".join(str(part) for part in where) or "item"
            problems.setdefault(int(index), f"{field}: {error['msg']}")
    # Rare: some item is refused. The others, valid each on its own, are validated again.
    valid = iter(batch.validate_python([item for i, item in enumerate(raw) if i not in problems]))
    return [problems[i] if i in problems else next(valid) for i in range(len(raw))]


def dump_items(service: str, models: list[ContractModel]) -> list[dict[str, Any]]:
    """The items as stored and hashed: JSON values, dates in the contract's own form."""
    dumped: list[dict[str, Any]] = _BATCHES[service].dump_python(models, mode="json")
    return dumped


def item_key(service: str, payload: dict[str, Any]) -> str:
    """The identity of an item: the same content sent twice is one item. The canonical form is
    orjson's with sorted keys (migration 20261207_1000 recomputed the keys stored before in
    json's); an integer beyond 64 bits, which orjson does not write, takes json's form."""
    try:
        canonical = orjson.dumps([service, payload], option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        canonical = json.dumps([service, payload], sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(canonical).hexdigest()


def record_time(record: DossierRecord) -> datetime:
    """When the record was taken: its ThoiDiemCapNhat, else its latest date."""
    if record.ThoiDiemCapNhat is not None:
        return record.ThoiDiemCapNhat
    dates = [
        record.NgayNopHoSo,
        record.NgayTiepNhan,
        record.NgayKetThucXuLy,
        record.NgayTra,
        *(s.NgayBoSung for s in record.DanhSachHoSoBoSung),
        *(s.NgayTiepNhanBoSung for s in record.DanhSachHoSoBoSung),
    ]
    return max(d for d in dates if d is not None)


def record_entries(record: DossierRecord, key: str, actor: str) -> list[Entry]:
    """The history a record tells, oldest first. Whether it is a legal history is for the
    status machine to say when it is replayed."""
    at = record_time(record)
    final = Status(record.TrangThaiHoSo)

    def step(instant: datetime | None, status: Status) -> Entry:
        return Entry(at=instant or at, status=status, origin=EventOrigin.SYNC, key=key, actor=actor)

    entries = [step(record.NgayNopHoSo, S.SUBMITTED)]
    if final is S.SUBMITTED:
        return entries
    if final is S.REFUSED_AT_INTAKE:
        return [*entries, step(record.NgayKetThucXuLy or record.NgayTiepNhan, final)]
    accepted = record.NgayTiepNhan is not None
    if accepted:
        entries.append(step(record.NgayTiepNhan, S.ACCEPTED))
        if final is S.ACCEPTED:
            return entries
        entries.append(step(record.NgayTiepNhan, S.PROCESSING))
    # Supplements requested before acceptance complete the dossier at intake (1 -> 5 -> 4).
    for supplement in sorted(record.DanhSachHoSoBoSung, key=lambda s: s.NgayBoSung):
        entries.append(step(supplement.NgayBoSung, S.SUPPLEMENT_REQUESTED))
        if supplement.NgayTiepNhanBoSung is not None:
            entries.append(step(supplement.NgayTiepNhanBoSung, S.PROCESSING))
    if final in (S.FEES_REQUESTED, S.WITHDRAWAL_REQUESTED):
        entries.append(step(None, final))
    elif final is S.STOPPED:
        if entries[-1].status is S.SUBMITTED:
            # Stopped before anything else happened: only a withdrawal leads there.
            entries.append(step(record.NgayKetThucXuLy, S.WITHDRAWAL_REQUESTED))
        entries.append(step(record.NgayKetThucXuLy, final))
    elif final in (S.RESOLVED, S.RESULT_RETURNED):
        entries.append(step(record.NgayKetThucXuLy, S.RESOLVED))
        if final is S.RESULT_RETURNED:
            entries.append(step(record.NgayTra, final))
    return entries


def step_entry(step: ProgressStep, key: str, actor: str) -> Entry:
    details = tuple(
        (name, value)
        for name, value in (("ChucDanh", step.ChucDanh), ("PhongBanXuLy", step.PhongBanXuLy))
        if value
    )
    return Entry(
        at=step.ThoiDiemXuLy,
        status=Status(step.TrangThai),
        origin=EventOrigin.SYNC,
        key=key,
        actor=step.NguoiXuLy or actor,
        note=step.NoiDungXuLy,
        details=details,
    )
