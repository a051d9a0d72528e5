"""HTTP for dossiers: citizens' routes and back offices' routes. Translation only; the rules
are in DossierService."""

from __future__ import annotations

from base64 import b64encode
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status
from fastapi import Path as FastAPIPath
from fastapi.responses import FileResponse

from app.accounts.dependencies import CurrentAccount, CurrentAccountRecord
from app.catalogue.dependencies import CurrentAgency
from app.core.idempotency import IdempotencyKey, answer_replay
from app.core.openapi import json_examples
from app.core.pagination import (
    DEFAULT_PAGE_SIZE,
    Page,
    PageDep,
    PageNumber,
    PageParams,
    PageSize,
)
from app.core.responses import JSONBytesResponse
from app.dossiers.schemas import (
    ComplaintIn,
    ComplaintOut,
    DocumentOut,
    DossierOut,
    DossierSubmit,
    EventOut,
    Note,
    RatingIn,
    TransitionIn,
    WithdrawIn,
)
from app.dossiers.states import Status
from app.services import DossierServiceDep, ReadDossierServiceDep, services_of

MAX_BIGINT = 2**63 - 1
citizen_router = APIRouter(prefix="/api/v1/dossiers", tags=["dossiers (citizen)"])
agency_router = APIRouter(prefix="/api/v1/agency/dossiers", tags=["dossiers (back office)"])
agency_complaints_router = APIRouter(
    prefix="/api/v1/agency/complaints", tags=["dossiers (back office)"]
)

Files = Annotated[list[UploadFile], File(description="PDF, JPEG or PNG documents")]


@citizen_router.post(
    "",
    response_model=DossierOut,
    status_code=status.HTTP_201_CREATED,
    summary="Submit a dossier online",
    responses={200: {"description": "replayed: the dossier first created with this key"}},
    openapi_extra=json_examples(
        plain=(
            "for the account holder",
            {"procedure_code": "1.001612", "agency_code": "000.00.01.H01"},
        ),
        for_someone=(
            "for another person, with form fields",
            {
                "procedure_code": "1.001612",
                "agency_code": "000.00.01.H01",
                "applicant": {"full_name": "Nguyễn Thị Mai", "phone": "0912345678"},
                "form": {"ho_ten_cha": "Nguyễn Văn An", "so_ban_sao": 2},
                "note": "Nộp lần đầu",
            },
        ),
    ),
)
async def submit_dossier(
    body: DossierSubmit,
    principal: CurrentAccount,
    service: DossierServiceDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    dossier, created = await service.submit(principal.account_id, body, idempotency_key)
    response = JSONBytesResponse(service.json(dossier), status_code=status.HTTP_201_CREATED)
    answer_replay(response, created)
    response.headers["Location"] = f"/api/v1/dossiers/{dossier.code}"
    return response


@citizen_router.get("", response_model=Page[DossierOut], summary="My dossiers")
async def my_dossiers(
    principal: CurrentAccount, service: ReadDossierServiceDep, page: PageDep
) -> Response:
    return JSONBytesResponse(await service.owner_page(principal.account_id, page))


# The hottest reads take the request and one dependency (the caller), not a graph of them:
# FastAPI solves each dependency apart, which cost more than the look-up's own work.
@citizen_router.get("/{code}", response_model=DossierOut, summary="One of my dossiers")
async def get_dossier(code: str, request: Request, principal: CurrentAccount) -> Response:
    reads = services_of(request).dossier_reads()
    return JSONBytesResponse(await reads.for_owner_json(principal.account_id, code))


@citizen_router.get("/{code}/events", response_model=list[EventOut], summary="A dossier's timeline")
async def dossier_events(
    code: str, principal: CurrentAccount, service: ReadDossierServiceDep
) -> list[EventOut]:
    dossier = await service.for_owner(principal.account_id, code)
    return [EventOut.model_validate(e) for e in await service.timeline(dossier)]


@citizen_router.post(
    "/{code}/documents",
    response_model=list[DocumentOut],
    status_code=status.HTTP_201_CREATED,
    summary="Attach documents (while the dossier is new)",
)
async def upload_documents(
    code: str, files: Files, owner: CurrentAccountRecord, service: DossierServiceDep
) -> list[DocumentOut]:
    documents = await service.add_documents(owner, code, files)
    return [DocumentOut.model_validate(d) for d in documents]


@citizen_router.get(
    "/{code}/documents", response_model=list[DocumentOut], summary="A dossier's documents"
)
async def list_documents(
    code: str, principal: CurrentAccount, service: ReadDossierServiceDep
) -> list[DocumentOut]:
    dossier = await service.for_owner(principal.account_id, code)
    return [DocumentOut.model_validate(d) for d in await service.documents(dossier)]


@citizen_router.get(
    "/{code}/documents/{document_id}",
    response_class=FileResponse,
    summary="Download a document",
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download_document(
    code: str,
    document_id: Annotated[int, FastAPIPath(ge=1, le=MAX_BIGINT)],
    principal: CurrentAccount,
    service: ReadDossierServiceDep,
) -> FileResponse:
    document = await service.document(principal.account_id, code, document_id)
    return FileResponse(
        service.store.path(document.storage_key),
        media_type=document.content_type,
        filename=document.filename,
        # RFC 9530: the representation's SHA-256, base64 between colons.
        headers={"Repr-Digest": f"sha-256=:{b64encode(bytes.fromhex(document.sha256)).decode()}:"},
    )


@citizen_router.post(
    "/{code}/withdraw",
    response_model=DossierOut,
    summary="Ask to withdraw a dossier (-> 7)",
    openapi_extra=json_examples(reason=("with a reason", {"reason": "Nộp nhầm thủ tục"})),
)
async def withdraw(
    code: str,
    owner: CurrentAccountRecord,
    service: DossierServiceDep,
    body: WithdrawIn | None = None,
) -> Response:
    dossier = await service.withdraw(owner, code, body.reason if body else None)
    return JSONBytesResponse(service.json(dossier))


@citizen_router.post(
    "/{code}/supplement",
    response_model=DossierOut,
    summary="Hand in a requested supplement (5 -> 4)",
)
async def supplement(
    code: str,
    owner: CurrentAccountRecord,
    service: DossierServiceDep,
    files: Annotated[list[UploadFile] | None, File(description="the requested documents")] = None,
    note: Annotated[Note | None, Form()] = None,
) -> Response:
    dossier = await service.supplement(owner, code, files or [], note)
    return JSONBytesResponse(service.json(dossier))


@citizen_router.post(
    "/{code}/rating",
    response_model=DossierOut,
    summary="Rate the service, once processing ended",
    openapi_extra=json_examples(rating=("five stars", {"score": 5, "comment": "Nhanh"})),
)
async def rate(
    code: str, body: RatingIn, owner: CurrentAccountRecord, service: DossierServiceDep
) -> Response:
    dossier = await service.rate(owner, code, body.score, body.comment)
    return JSONBytesResponse(service.json(dossier))


@agency_router.get("", response_model=Page[DossierOut], summary="The agency's inbox")
async def agency_inbox(
    request: Request,
    agency: CurrentAgency,
    status_filter: Annotated[int | None, Query(alias="status", ge=1, le=10)] = None,
    include_acknowledged: Annotated[
        bool, Query(description="also list dossiers already acknowledged")
    ] = False,
    page: PageNumber = 1,
    size: PageSize = DEFAULT_PAGE_SIZE,
) -> Response:
    """The agency's online dossiers, oldest first; by default only those not yet acknowledged."""
    inbox = (
        await services_of(request)
        .dossier_reads()
        .agency_page(
            agency.agency_code,
            status=status_filter,
            include_acknowledged=include_acknowledged,
            page=PageParams(page=page, size=size),
        )
    )
    return JSONBytesResponse(inbox)


@agency_router.get("/{code}", response_model=DossierOut, summary="One of the agency's dossiers")
async def agency_dossier(code: str, request: Request, agency: CurrentAgency) -> Response:
    reads = services_of(request).dossier_reads()
    return JSONBytesResponse(await reads.for_agency_json(agency.agency_code, code))


@agency_router.get("/{code}/events", response_model=list[EventOut], summary="A dossier's timeline")
async def agency_dossier_events(
    code: str, agency: CurrentAgency, service: ReadDossierServiceDep
) -> list[EventOut]:
    dossier = await service.for_agency(agency.agency_code, code)
    return [EventOut.model_validate(e) for e in await service.timeline(dossier)]


@agency_router.post(
    "/{code}/ack", response_model=DossierOut, summary="Acknowledge a dossier (idempotent)"
)
async def acknowledge(code: str, agency: CurrentAgency, service: DossierServiceDep) -> Response:
    return JSONBytesResponse(service.json(await service.acknowledge(agency.agency_code, code)))


@agency_router.post(
    "/{code}/transitions",
    response_model=DossierOut,
    summary="Move a dossier through the status machine",
    openapi_extra=json_examples(
        accept=("accept at intake: the due date is set", {"to_status": 2}),
        supplement=(
            "request a supplement: the clock pauses",
            {"to_status": 5, "note": "Thiếu bản sao giấy khai sinh"},
        ),
    ),
)
async def apply_transition(
    code: str, body: TransitionIn, agency: CurrentAgency, service: DossierServiceDep
) -> Response:
    dossier = await service.agency_transition(
        agency.agency_code, code, Status(body.to_status), body.note, body.electronic_result
    )
    return JSONBytesResponse(service.json(dossier))


@agency_router.post(
    "/{code}/results",
    response_model=list[DocumentOut],
    status_code=status.HTTP_201_CREATED,
    summary="Attach result documents (status 4 or 9): the result is electronic",
)
async def attach_results(
    code: str, files: Files, agency: CurrentAgency, service: DossierServiceDep
) -> list[DocumentOut]:
    documents = await service.attach_results(agency.agency_code, code, files)
    return [DocumentOut.model_validate(d) for d in documents]


@citizen_router.post(
    "/{code}/complaints",
    response_model=ComplaintOut,
    status_code=status.HTTP_201_CREATED,
    summary="File a complaint about a dossier (indicator 5.4)",
    openapi_extra=json_examples(
        late=("about a late dossier", {"content": "Hồ sơ quá hạn nhưng chưa có thông báo"})
    ),
)
async def file_complaint(
    code: str, body: ComplaintIn, owner: CurrentAccountRecord, service: DossierServiceDep
) -> ComplaintOut:
    return await service.file_complaint(owner, code, body.content)


@citizen_router.get(
    "/{code}/complaints", response_model=list[ComplaintOut], summary="My complaints about a dossier"
)
async def my_complaints(
    code: str, principal: CurrentAccount, service: ReadDossierServiceDep
) -> list[ComplaintOut]:
    dossier = await service.for_owner(principal.account_id, code)
    return await service.complaints_of(dossier)


@agency_complaints_router.get(
    "", response_model=Page[ComplaintOut], summary="Complaints about the agency's dossiers"
)
async def agency_complaints(
    agency: CurrentAgency, service: ReadDossierServiceDep, page: PageDep
) -> Page[ComplaintOut]:
    """Newest first."""
    return await service.agency_complaints(agency.agency_code, page)
