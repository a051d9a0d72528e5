"""The sync contract as OpenCPS, the open-source one-stop system many provinces deploy, speaks it.

Built from VietOpenCPS/opencps-v2, modules/backend-dossiermgt/backend-dossiermgt-service/src/
main/java/org/opencps/dossiermgt/action/impl/DVCQGIntegrationActionImpl.java (read, not copied):
- `createSyncDossierBodyRequest` builds a DongBoHoSoMC item with Liferay's JSONObject: every
  number through String.valueOf ("1"), the status as the mapped code's text, `DonViXuLy` as the
  unit's name (getGovAgencyName()), `MaLinhVuc` "" when the catalogue look-up failed, empty lists
  for the optional lists, and fields the portal does not read (TenLinhVuc, HinhThuc, Email...);
- `createSyncDossierStatusBodyRequest` builds a CapNhatTienDoHoSoMC item, `ChucDanh`,
  `PhongBanXuLy`, `NgayBatDau` and `NgayKetThucTheoQuyDinh` always "";
- `convertDate2String` writes yyyyMMddHHmmss in Asia/Ho_Chi_Minh, and "" for a null date;
- `syncData` sends `{session, madonvi, ...}`; `syncDossierAndDossierStatus` adds `isUpdating`
  "True" / "False" to records (whether the portal already has the dossier), none to steps.
It does not send NgayNopHoSo, SoDinhDanh or KenhThucHien, which the contract document (domain.md)
requires: they are added here as such a client encodes values (text).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from httpx import AsyncClient, Response

from tests.support.sync import RECORDS, SYNC_URL, BackOffice, contract_date

# The processing unit as OpenCPS names it: free text, not an agency code.
UNIT_NAME = "Bộ phận Một cửa Ủy ban nhân dân xã Tân Phú, tỉnh Đồng Nai"


def date_text(value: datetime | None) -> str:
    """convertDate2String: the contract's date, or "" for none."""
    return contract_date(value) if value is not None else ""


def opencps_record(
    code: str,
    procedure_code: str,
    owner: str,
    *,
    status: int,
    submitted: datetime,
    accepted: datetime | None = None,
    due: datetime | None = None,
    finished: datetime | None = None,
    returned: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A DongBoHoSoMC item in OpenCPS's encoding; `extra` overrides fields as sent."""
    item: dict[str, Any] = {
        "MaHoSo": code,
        "MaTTHC": procedure_code,
        "TenTTHC": "Cấp giấy chứng nhận",
        "MaLinhVuc": "",
        "TenLinhVuc": "",
        "ChuHoSo": "Phạm Thị Dung",
        "LoaiDoiTuong": "1",
        "MaDoiTuong": "",
        "ThongTinKhac": "",
        "Email": "",
        "Fax": "0912345678",
        "SoDienThoai": "0912345678",
        "TrichYeuHoSo": "",
        "NgayTiepNhan": date_text(accepted),
        "NgayHenTra": date_text(due),
        "TrangThaiHoSo": str(status),
        "NgayTra": date_text(returned),
        "ThongTinTra": "",
        "HinhThuc": "0",
        "NgayKetThucXuLy": date_text(finished),
        "DonViXuLy": UNIT_NAME,
        "GhiChu": "",
        "DanhSachLePhi": [],
        "DanhSachTepDinhKemKhac": [],
        "DanhSachHoSoBoSung": [],
        "DanhSachGiayToKetQua": [],
        "TaiLieuNop": [],
        # Required by the contract document, absent from OpenCPS's body.
        "NgayNopHoSo": date_text(submitted),
        "SoDinhDanh": owner,
        "KenhThucHien": "1",
    }
    return item | extra


def opencps_step(code: str, status: int, at: datetime | None, **extra: Any) -> dict[str, Any]:
    """A CapNhatTienDoHoSoMC item in OpenCPS's encoding."""
    item: dict[str, Any] = {
        "MaHoSo": code,
        "NguoiXuLy": "Nguyễn Văn Em",
        "ChucDanh": "",
        "ThoiDiemXuLy": date_text(at),
        "PhongBanXuLy": "",
        "NoiDungXuLy": "Chuyển xử lý",
        "TrangThai": str(status),
        "NgayBatDau": "",
        "NgayKetThucTheoQuyDinh": "",
    }
    return item | extra


async def opencps_post(
    client: AsyncClient,
    office: BackOffice,
    service: str,
    items: list[dict[str, Any]],
    **envelope: Any,
) -> Response:
    """One call in OpenCPS's envelope: records with isUpdating "False" (override it through
    `envelope`), steps without it."""
    body: dict[str, Any] = {"session": office.session, "madonvi": office.agency_code}
    if service == RECORDS:
        body["isUpdating"] = "False"
    body |= {"service": service, "data": items} | envelope
    return await client.post(SYNC_URL, json=body)


async def opencps_send(
    client: AsyncClient,
    office: BackOffice,
    service: str,
    items: list[dict[str, Any]],
    **envelope: Any,
) -> dict[str, Any]:
    """A call the portal takes: its reply, one result per item."""
    response = await opencps_post(client, office, service, items, **envelope)
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    assert reply["error_code"] == 0, reply
    assert len(reply["results"]) == len(items), reply
    return reply
