"""Dossier rules: submission, the one transition service, citizens' and back offices' actions."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Generic

from fastapi import UploadFile

from app.accounts.errors import InvalidCredentials
from app.accounts.models import Account
from app.catalogue.service import CatalogueService
from app.core.calendar import VIETNAM_TZ, WorkingCalendar
from app.core.clock import Clock
from app.core.db import Database, SessionT, WriteSession, on_rollback
from app.core.errors import InvalidInput
from app.core.pagination import Page, PageParams
from app.dossiers.errors import (
    AlreadyRated,
    DocumentNotFound,
    DossierNotFound,
    IdempotencyKeyReused,
    IllegalTransition,
    NotAllowedNow,
    NumberingExhausted,
)
from app.dossiers.kinds import ActorKind, EventOrigin
from app.dossiers.lifecycle import advance, processing_of, progress_columns, progress_of
from app.dossiers.models import DossierComplaint, DossierDocument, DossierEvent
from app.dossiers.presentation import DossierColumns, dossier_json, page_json
from app.dossiers.repository import (
    DossierReader,
    DossierRepository,
    DossierRow,
    OnlineSubmission,
)
from app.dossiers.schemas import ComplaintOut, DossierSubmit
from app.dossiers.states import Status, TransitionRefused
from app.dossiers.storage import DocumentStore, folder_for

MAX_FILES_PER_UPLOAD = 20


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    name: str  # an account's identifier, or an agency's code


# The day's number has 4 digits, more past 9,999, and at most 6: a million dossiers at one
# agency in one day is far past the whole country's (about 121,000 a day in 2025), and far
# inside any database's integer.
SEQUENCE_DIGITS = 6
MAX_SEQUENCE = 10**SEQUENCE_DIGITS - 1
_NUMBERING = re.compile(r"(?P<day>[0-9]{6})-(?P<number>[0-9]{4,})")


def dossier_code(agency_code: str, received_at: datetime, sequence: int) -> str:
    """`<agency id>-<YYMMDD>-<NNNN>`, the day in Vietnam's time; past 9,999 dossiers an agency's
    day simply grows a fifth digit, up to SEQUENCE_DIGITS."""
    day = received_at.astimezone(VIETNAM_TZ)
    return f"{agency_code}-{day:%y%m%d}-{sequence:04d}"


def code_agency(code: str) -> str:
    """The part of a code before its first dash: the agency, if the code is in the portal's
    numbering (agency identifiers have no dash)."""
    return code.partition("-")[0]


def code_numbering(code: str) -> tuple[date, int] | None:
    """The day and number of a code in the portal's shape (`dossier_code`); None for a code of
    another shape. A day that does not exist or a number wider than SEQUENCE_DIGITS is a
    ValueError: such a code is not one the portal could have made."""
    match = _NUMBERING.fullmatch(code.partition("-")[2])
    if match is None:
        return None
    try:
        day = datetime.strptime(match["day"], "%y%m%d").date()
    except ValueError:
        raise ValueError(f"{match['day']} is not a day (yyMMdd)") from None
    if len(match["number"]) > SEQUENCE_DIGITS:
        raise ValueError(f"the day's number has at most {SEQUENCE_DIGITS} digits")
    return day, int(match["number"])


def submission_hash(body: DossierSubmit) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def owned(dossier: DossierRow | None, owner_id: int, code: str) -> DossierRow:
    """The dossier if `owner_id` owns it; otherwise 404, the same as for a code that does not
    exist, so codes cannot be probed."""
    if dossier is None or dossier.owner_id != owner_id:
        raise DossierNotFound(f"no dossier {code!r} of yours", field="code")
    return dossier


def at_agency(dossier: DossierRow | None, agency_code: str, code: str) -> DossierRow:
    """The dossier if `agency_code` receives or processes it; otherwise 404, as for a
    citizen."""
    if dossier is None or agency_code not in (dossier.agency_code, dossier.processing_agency_code):
        raise DossierNotFound(f"no dossier {code!r} at agency {agency_code}", field="code")
    return dossier


@dataclass(frozen=True, slots=True)
class DossierReads:
    """The hottest reads, as the JSON bytes sent: a dossier by code (its owner's, its
    agency's) and the agency's inbox. Each on a read connection of its own (Core, no ORM
    session), with the same rules and answers as DossierService's."""

    database: Database
    clock: Clock

    async def for_owner_json(self, owner_id: int, code: str) -> bytes:
        async with self.database.read_connection() as connection:
            row = await DossierReader(connection).row(code)
        return dossier_json(owned(row, owner_id, code), self.clock.now())

    async def for_agency_json(self, agency_code: str, code: str) -> bytes:
        async with self.database.read_connection() as connection:
            row = await DossierReader(connection).row(code)
        return dossier_json(at_agency(row, agency_code, code), self.clock.now())

    async def agency_page(
        self,
        agency_code: str,
        *,
        status: int | None,
        include_acknowledged: bool,
        page: PageParams,
    ) -> bytes:
        """A `Page[DossierOut]` of the agency's online dossiers, oldest first."""
        async with self.database.read_connection() as connection:
            rows, total = await DossierReader(connection).agency_inbox(
                agency_code,
                status=status,
                include_acknowledged=include_acknowledged,
                offset=page.offset,
                limit=page.size,
            )
        return page_json(rows, total, page, self.clock.now())


class DossierService(Generic[SessionT]):
    def __init__(
        self,
        repository: DossierRepository[SessionT],
        catalogue: CatalogueService[SessionT],
        calendar: WorkingCalendar,
        clock: Clock,
        store: DocumentStore,
    ) -> None:
        self.repository = repository
        self.catalogue = catalogue
        self.calendar = calendar
        self.clock = clock
        self.store = store

    # -- presentation ---------------------------------------------------------------------

    def json(self, dossier: DossierColumns) -> bytes:
        """A `DossierOut`, as the JSON bytes sent."""
        return dossier_json(dossier, self.clock.now())

    async def owner_page(self, owner_id: int, page: PageParams) -> bytes:
        """A `Page[DossierOut]` of the owner's dossiers, newest first."""
        rows, total = await self.repository.list_for_owner(
            owner_id, offset=page.offset, limit=page.size
        )
        return page_json(rows, total, page, self.clock.now())

    async def timeline(self, dossier: DossierRow) -> Sequence[DossierEvent]:
        return await self.repository.events(dossier.id)

    async def documents(self, dossier: DossierRow) -> Sequence[DossierDocument]:
        return await self.repository.documents(dossier.id)

    # -- submission -----------------------------------------------------------------------

    async def submit(
        self: DossierService[WriteSession],
        owner_id: int,
        body: DossierSubmit,
        idempotency_key: str | None,
    ) -> tuple[DossierRow, bool]:
        """Create an online dossier; returns it and whether it was created by this call.

        With an Idempotency-Key, the same key and body give back the original dossier and the
        same key with another body is refused.
        """
        request_hash = submission_hash(body)
        reception = await self.catalogue.receiving_agency(body.procedure_code, body.agency_code)
        now = self.clock.now()
        day = now.astimezone(VIETNAM_TZ).date()
        inserted = await self.repository.insert_online(
            OnlineSubmission(
                owner_id=owner_id,
                procedure_code=reception.procedure_code,
                agency_code=reception.agency_code,
                processing_time=reception.processing_time,
                processing_unit=reception.processing_unit,
                day=day,
                applicant=body.applicant.model_dump(mode="json") if body.applicant else None,
                form=body.form,
                note=body.note,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
                at=now,
                max_sequence=MAX_SEQUENCE,
            )
        )
        if inserted.dossier is not None:
            return inserted.dossier, True
        # Nothing inserted: the rare paths, each with a read of its own.
        if inserted.sequence is not None:  # a concurrent submission with the key won
            await self.repository.give_back_sequence(reception.agency_code, day, inserted.sequence)
        if idempotency_key:
            existing = await self._replay(owner_id, idempotency_key, request_hash)
            if existing is not None:
                return existing, False
        if not await self.repository.account_exists(owner_id):
            raise InvalidCredentials("the token's account does not exist")
        raise NumberingExhausted(
            f"agency {reception.agency_code} has given out all {MAX_SEQUENCE:,} dossier "
            f"numbers of {day:%Y-%m-%d}: submit to it again tomorrow",
            field="agency_code",
        )

    async def _replay(self, owner_id: int, key: str, request_hash: str) -> DossierRow | None:
        existing = await self.repository.row_by_idempotency_key(owner_id, key)
        if existing is not None and existing.request_hash != request_hash:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {key!r} was used for a different submission ({existing.code})",
                field="Idempotency-Key",
            )
        return existing

    # -- look-ups with ownership ----------------------------------------------------------

    async def for_owner(self, owner_id: int, code: str, *, for_update: bool = False) -> DossierRow:
        return owned(await self.repository.row(code, for_update=for_update), owner_id, code)

    async def for_agency(
        self, agency_code: str, code: str, *, for_update: bool = False
    ) -> DossierRow:
        return at_agency(await self.repository.row(code, for_update=for_update), agency_code, code)

    # -- the one transition service -------------------------------------------------------

    async def transition(
        self: DossierService[WriteSession],
        dossier: DossierRow,
        wanted: Status,
        actor: Actor,
        note: str | None = None,
        **also: object,
    ) -> DossierRow:
        """Move a dossier to `wanted` now, if the status machine allows it, with its event; the
        clock effects (due date, pauses, end of processing) are those of `lifecycle.advance`.
        `also`: other columns set in the same write. Returns the dossier as it is now."""
        current = Status(dossier.status)
        now = self.clock.now()
        try:
            progress = advance(
                progress_of(dossier),
                wanted,
                now,
                actor.kind,
                calendar=self.calendar,
                processing=processing_of(dossier),
            )
        except TransitionRefused as refused:
            raise IllegalTransition(
                refused.reason,
                field="to_status",
                from_status=int(current),
                to_status=int(wanted),
            ) from refused
        event = {
            "from_status": int(current),
            "to_status": int(wanted),
            "actor_kind": actor.kind,
            "actor": actor.name,
            "at": now,
            "note": note,
            "origin": EventOrigin.PORTAL,
            "applied": True,
        }
        columns = progress_columns(progress) | {"updated_at": now} | also
        return await self.repository.move(dossier.id, columns, event)

    # -- citizens' actions ----------------------------------------------------------------

    async def withdraw(
        self: DossierService[WriteSession], owner: Account, code: str, reason: str | None
    ) -> DossierRow:
        dossier = await self.for_owner(owner.id, code, for_update=True)
        return await self.transition(dossier, Status.WITHDRAWAL_REQUESTED, _citizen(owner), reason)

    async def add_documents(
        self: DossierService[WriteSession], owner: Account, code: str, files: Sequence[UploadFile]
    ) -> list[DossierDocument]:
        dossier = await self.for_owner(owner.id, code, for_update=True)
        if dossier.status != Status.SUBMITTED:
            raise NotAllowedNow(
                "documents are added while the dossier is new (status 1); "
                "after a supplement request use /supplement",
                field="status",
                status=dossier.status,
            )
        documents = await self._store_documents(dossier, files, "submission")
        if documents:
            # Its inputs now exist as digital documents (4.2).
            await self.repository.update(dossier.id, {"digitised": True})
        return documents

    async def supplement(
        self: DossierService[WriteSession],
        owner: Account,
        code: str,
        files: Sequence[UploadFile],
        note: str | None,
    ) -> DossierRow:
        dossier = await self.for_owner(owner.id, code, for_update=True)
        if dossier.status != Status.SUPPLEMENT_REQUESTED:
            raise NotAllowedNow(
                f"no supplement was requested (status {dossier.status})",
                field="status",
                status=dossier.status,
            )
        if not files and not note:
            raise InvalidInput("a supplement needs documents or a note", field="files")
        await self._store_documents(dossier, files, "supplement")
        return await self.transition(dossier, Status.PROCESSING, _citizen(owner), note)

    async def rate(
        self: DossierService[WriteSession],
        owner: Account,
        code: str,
        score: int,
        comment: str | None,
    ) -> DossierRow:
        dossier = await self.for_owner(owner.id, code, for_update=True)
        if dossier.finished_at is None:
            raise NotAllowedNow(
                "a dossier is rated once its processing has ended",
                field="status",
                status=dossier.status,
            )
        if dossier.rating is not None:
            raise AlreadyRated("this dossier has been rated already", field="score")
        now = self.clock.now()
        rating = {"rating": score, "rating_comment": comment, "rated_at": now, "updated_at": now}
        return await self.repository.update(dossier.id, rating)

    async def document(self, owner_id: int, code: str, document_id: int) -> DossierDocument:
        dossier = await self.for_owner(owner_id, code)
        document = await self.repository.document(dossier.id, document_id)
        if document is None:
            raise DocumentNotFound(f"no document {document_id} in {code}", field="document_id")
        return document

    async def _store_documents(
        self: DossierService[WriteSession],
        dossier: DossierRow,
        files: Sequence[UploadFile],
        purpose: str,
    ) -> list[DossierDocument]:
        if len(files) > MAX_FILES_PER_UPLOAD:
            raise InvalidInput(f"at most {MAX_FILES_PER_UPLOAD} files at once", field="files")
        documents = []
        for upload in files:
            stored = await self.store.save(upload, folder=folder_for(dossier.code))
            # All or nothing: if this request does not commit, no file of it stays on disk.
            on_rollback(self.repository.session, partial(self.store.delete, stored.storage_key))
            documents.append(
                DossierDocument(
                    dossier_id=dossier.id,
                    purpose=purpose,
                    filename=stored.filename,
                    content_type=stored.content_type,
                    size_bytes=stored.size_bytes,
                    sha256=stored.sha256,
                    storage_key=stored.storage_key,
                    uploaded_at=self.clock.now(),
                )
            )
        await self.repository.add(*documents)
        return documents

    # -- back offices ---------------------------------------------------------------------

    async def acknowledge(
        self: DossierService[WriteSession], agency_code: str, code: str
    ) -> DossierRow:
        dossier = await self.for_agency(agency_code, code, for_update=True)
        if dossier.acked_at is not None:
            return dossier
        return await self.repository.update(dossier.id, {"acked_at": self.clock.now()})

    async def agency_transition(
        self: DossierService[WriteSession],
        agency_code: str,
        code: str,
        target: Status,
        note: str | None,
        electronic_result: bool | None = None,
    ) -> DossierRow:
        if electronic_result is not None and target not in RESULT_STATUSES:
            raise InvalidInput(
                "electronic_result goes with a result: to_status 9 or 10",
                field="electronic_result",
            )
        dossier = await self.for_agency(agency_code, code, for_update=True)
        declared = {} if electronic_result is None else {"electronic_result": electronic_result}
        actor = Actor(ActorKind.AGENCY, agency_code)
        return await self.transition(dossier, target, actor, note, **declared)

    async def attach_results(
        self: DossierService[WriteSession], agency_code: str, code: str, files: Sequence[UploadFile]
    ) -> list[DossierDocument]:
        """Result documents, once processing is under way and until the result is returned:
        the dossier's result is then electronic (indicator 4.1)."""
        if not files:
            raise InvalidInput("attach at least one result document", field="files")
        dossier = await self.for_agency(agency_code, code, for_update=True)
        if dossier.status not in (Status.PROCESSING, Status.RESOLVED):
            raise NotAllowedNow(
                "result documents are attached while the dossier is processed or resolved "
                f"(status 4 or 9), not in status {dossier.status}",
                field="status",
                status=dossier.status,
            )
        documents = await self._store_documents(dossier, files, "result")
        await self.repository.update(
            dossier.id, {"electronic_result": True, "updated_at": self.clock.now()}
        )
        return documents

    # -- complaints -----------------------------------------------------------------------

    async def file_complaint(
        self: DossierService[WriteSession], owner: Account, code: str, content: str
    ) -> ComplaintOut:
        dossier = await self.for_owner(owner.id, code, for_update=True)
        complaint = DossierComplaint(
            dossier_id=dossier.id,
            agency_code=dossier.agency_code,
            account_id=owner.id,
            content=content,
            filed_at=self.clock.now(),
        )
        await self.repository.add(complaint)
        return _complaint_out(complaint, dossier.code)

    async def complaints_of(self, dossier: DossierRow) -> list[ComplaintOut]:
        return [
            _complaint_out(c, dossier.code) for c in await self.repository.complaints(dossier.id)
        ]

    async def agency_complaints(self, agency_code: str, page: PageParams) -> Page[ComplaintOut]:
        rows, total = await self.repository.agency_complaints(
            agency_code, offset=page.offset, limit=page.size
        )
        return Page[ComplaintOut](
            items=[_complaint_out(c, code) for c, code in rows],
            total=total,
            page=page.page,
            size=page.size,
        )


# A result exists from the end of processing on: an electronic result is declared with it.
RESULT_STATUSES = frozenset({Status.RESOLVED, Status.RESULT_RETURNED})


def _complaint_out(complaint: DossierComplaint, dossier_code: str) -> ComplaintOut:
    return ComplaintOut(
        id=complaint.id,
        dossier_code=dossier_code,
        agency_code=complaint.agency_code,
        content=complaint.content,
        filed_at=complaint.filed_at,
    )


def _citizen(owner: Account) -> Actor:
    return Actor(ActorKind.CITIZEN, owner.identifier)
