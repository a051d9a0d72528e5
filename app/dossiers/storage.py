"""Dossier documents on disk: streamed with a size limit, hashed, and checked by content.

The declared Content-Type is not trusted alone: for the types whose signature is known here
(PDF, JPEG, PNG) the first bytes must match it, so a renamed executable is refused rather than
stored as a "PDF". Other types allowed by DOCUMENT_TYPES are taken as declared.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiofiles
import aiofiles.os
from fastapi import UploadFile

from app.core.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

CHUNK_BYTES = 1024 * 1024
MAGIC_NUMBERS: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
MAX_FILENAME = 255


@dataclass(frozen=True, slots=True)
class StoredFile:
    storage_key: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str


class DocumentStore:
    def __init__(self, root: Path, *, max_bytes: int, allowed_types: list[str]) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.allowed_types = allowed_types

    def path(self, storage_key: str) -> Path:
        return self.root / storage_key

    async def save(self, upload: UploadFile, *, folder: str) -> StoredFile:
        """Copy an upload under `folder`; nothing is left on disk when it is refused."""
        content_type = (upload.content_type or "").split(";")[0].strip().lower()
        if content_type not in self.allowed_types:
            raise UnsupportedMediaType(
                f"{content_type or 'unknown type'} is not accepted; allowed: "
                + ", ".join(self.allowed_types),
                field="files",
            )
        filename = display_name(upload.filename)
        storage_key = f"{folder}/{uuid.uuid4().hex}"
        target = self.path(storage_key)
        await aiofiles.os.makedirs(target.parent, exist_ok=True)
        partial = target.with_suffix(".part")
        digest = hashlib.sha256()
        size = 0
        try:
            async with aiofiles.open(partial, "wb") as out:
                while chunk := await upload.read(CHUNK_BYTES):
                    if size == 0 and not chunk.startswith(MAGIC_NUMBERS.get(content_type, (b"",))):
                        raise UnsupportedMediaType(
                            f"{filename}: the content is not a {content_type} file",
                            field="files",
                        )
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise PayloadTooLarge(
                            f"{filename} is larger than {self.max_bytes} bytes", field="files"
                        )
                    digest.update(chunk)
                    await out.write(chunk)
            if size == 0:
                raise InvalidInput(f"{filename} is empty", field="files")
            await aiofiles.os.replace(partial, target)
        except BaseException:
            if await aiofiles.os.path.exists(partial):
                await aiofiles.os.remove(partial)
            raise
        return StoredFile(storage_key, filename, content_type, size, digest.hexdigest())

    async def delete(self, storage_key: str) -> None:
        target = self.path(storage_key)
        if await aiofiles.os.path.exists(target):
            await aiofiles.os.remove(target)


def folder_for(dossier_code: str) -> str:
    # Dossier codes hold only digits, dots, letters and dashes; keep the folder name safe anyway.
    return "".join(ch if ch.isalnum() or ch in ".-" else "_" for ch in dossier_code)


def display_name(raw: str | None) -> str:
    """The name shown back to users: printable characters only (NUL above all cannot be
    stored), no directories, and an over-long name shortened in its stem, keeping its extension."""
    name = Path("".join(ch for ch in raw or "" if ch.isprintable())).name
    if len(name) > MAX_FILENAME:
        suffix = Path(name).suffix[:16]
        name = name[: MAX_FILENAME - len(suffix)] + suffix
    return name or "document"
