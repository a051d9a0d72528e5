"""Sync item keys in a faster canonical form: SHA-256 of orjson's sorted-key JSON of the item
instead of json's. The key decides what counts as a resend (app/sync/items.py:item_key), so
every stored key is recomputed from its item's stored payload, both ways.

Both forms are written out here, as they were when this revision was made: the app's
item_key may change again, this revision's meaning may not. One limit: PostgreSQL's jsonb
keeps numbers as decimals, so a float that jsonb writes back as an integer (1e16, in a field
the portal does not read) hashes as that integer; a resend of such an item is stored again.

Revision ID: 9b1e4d7c2a60
Revises: 5e2b7c90d1a4
Create Date: 2026-12-07 10:00:00.000000+00:00
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision: str = "9b1e4d7c2a60"
down_revision: str | None = "5e2b7c90d1a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 5000  # rows read and rewritten at a time


def _json_form(service: str, payload: Any) -> bytes:
    return json.dumps([service, payload], sort_keys=True, ensure_ascii=False, default=str).encode()


def _orjson_form(service: str, payload: Any) -> bytes:
    try:
        return orjson.dumps([service, payload], option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits: json's form
        return json.dumps([service, payload], sort_keys=True, ensure_ascii=False).encode()


def _rekey(canonical: Callable[[str, Any], bytes]) -> None:
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.text(
                "SELECT id, service, payload FROM sync_items WHERE id > :last "
                "ORDER BY id LIMIT :chunk"
            ),
            {"last": last, "chunk": CHUNK},
        ).all()
        if not rows:
            return
        keys = [
            {
                "id": row_id,
                "key": hashlib.sha256(
                    canonical(service, json.loads(payload) if isinstance(payload, str) else payload)
                ).hexdigest(),
            }
            for row_id, service, payload in rows
        ]
        connection.execute(sa.text("UPDATE sync_items SET item_key = :key WHERE id = :id"), keys)
        last = rows[-1][0]


def upgrade() -> None:
    _rekey(_orjson_form)


def downgrade() -> None:
    _rekey(_json_form)
