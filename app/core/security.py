"""Bearer tokens for citizens and derived keys for agencies' back offices."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from jwt.types import Options

from app.core.config import Settings
from app.core.kept import Kept

TOKEN_ALGORITHM = "HS256"
AGENCY_KEY_SEPARATOR = ":"
# Every token the portal issues expires and names its holder; one without either was not
# issued here, whoever holds the secret.
REQUIRED_CLAIMS: Options = {"require": ["exp", "sub"]}
# An account id as the database holds it: 1 to 2**63 - 1 (BIGINT; SQLite's INTEGER), written in
# ASCII digits. A subject beyond that names no account, and must not reach the database.
ACCOUNT_ID = re.compile(r"[1-9][0-9]{0,18}")
MAX_ACCOUNT_ID = 2**63 - 1


# A good token's check, kept for the token's lifetime: a citizen sends the same token with every
# request, and its decode (JSON, HMAC, claims) cost more than a look-up's own work. Keyed by the
# secret too, since the answer depends on it; bounded like every kept map.
_CHECKED_TOKENS: Kept[int] = Kept(seconds=0)


class InvalidToken(Exception):
    pass


def issue_token(settings: Settings, *, account_id: int, kind: str) -> tuple[str, datetime]:
    # Tokens expire in wall-clock time: a virtual clock speeds up dossiers, not security.
    expires_at = datetime.now(UTC) + timedelta(minutes=settings.token_ttl_minutes)
    claims: dict[str, Any] = {"sub": str(account_id), "kind": kind, "exp": expires_at}
    return jwt.encode(claims, settings.secret_key, algorithm=TOKEN_ALGORITHM), expires_at


def read_token(settings: Settings, token: str) -> int:
    """The account id a token was issued to; InvalidToken, saying why, if forged, malformed or
    expired. A good token's answer is kept until it expires (refusals are not kept)."""
    kept = _CHECKED_TOKENS.get((settings.secret_key, token))
    if kept is not None:
        return kept
    try:
        claims = _decode(settings, token)
    except jwt.PyJWTError as exc:
        raise InvalidToken(token_problem("the bearer token", exc)) from exc
    if claims.get("kind") not in ("citizen", "business"):
        raise InvalidToken("the bearer token is not a citizen's or a business's")
    subject = claims["sub"]  # a string: PyJWT refuses any other
    if not ACCOUNT_ID.fullmatch(subject) or int(subject) > MAX_ACCOUNT_ID:
        raise InvalidToken("the bearer token names no account")
    account_id = int(subject)
    _CHECKED_TOKENS.put((settings.secret_key, token), account_id, claims["exp"] - time.time())
    return account_id


def _decode(settings: Settings, token: str) -> dict[str, Any]:
    return jwt.decode(
        token, settings.secret_key, algorithms=[TOKEN_ALGORITHM], options=REQUIRED_CLAIMS
    )


def token_problem(what: str, exc: jwt.PyJWTError) -> str:
    """PyJWT's reason ("Not enough segments") in the portal's words."""
    if isinstance(exc, jwt.ExpiredSignatureError):
        return f"{what} has expired: log in again"
    if isinstance(exc, jwt.InvalidSignatureError):  # a DecodeError too: test it first
        return f"{what} was not issued by this portal (its signature does not match)"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return f"{what} is not signed the way this portal signs (HS256)"
    if isinstance(exc, jwt.DecodeError):
        return f"{what} is malformed: it is not a token issued by this portal"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"{what} has no {exc.claim!r} claim: it is not a token issued by this portal"
    return f"{what} is not valid"


class ExpiredSession(InvalidToken):
    pass


def issue_sync_session(settings: Settings, agency_code: str) -> tuple[str, datetime]:
    expires_at = datetime.now(UTC) + timedelta(minutes=settings.sync_session_ttl_minutes)
    claims = {"sub": agency_code, "kind": "sync", "exp": expires_at}
    return jwt.encode(claims, settings.secret_key, algorithm=TOKEN_ALGORITHM), expires_at


def read_sync_session(settings: Settings, token: str) -> str:
    """The agency a sync session was opened for; ExpiredSession or InvalidToken otherwise."""
    try:
        claims = _decode(settings, token)
    except jwt.ExpiredSignatureError as exc:
        raise ExpiredSession("the session has expired: log in again") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken(token_problem("the session", exc)) from exc
    if claims.get("kind") != "sync":
        raise InvalidToken("not a sync session")
    return str(claims["sub"])


def _derive(settings: Settings, purpose: str, subject: str) -> str:
    message = f"{purpose}:{subject}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


def agency_key(settings: Settings, agency_code: str) -> str:
    """The agency's API key: its code and a MAC of it, so keys survive re-seeding and the
    portal needs no key table."""
    return f"{agency_code}{AGENCY_KEY_SEPARATOR}{_derive(settings, 'agency-key', agency_code)}"


def sync_credentials(settings: Settings, agency_code: str) -> tuple[str, str]:
    """The agency's integration account: its code as the username, a derived password."""
    return agency_code, _derive(settings, "sync-password", agency_code)[:24]


def check_sync_credentials(settings: Settings, username: str, password: str) -> bool:
    if not username.isascii() or not password.isascii():
        return False
    _, expected = sync_credentials(settings, username)
    return hmac.compare_digest(expected, password)


def agency_of_key(settings: Settings, key: str) -> str | None:
    """The agency code a key was derived for, or None for a forged or malformed key."""
    code, _, _mac = key.rpartition(AGENCY_KEY_SEPARATOR)
    # compare_digest refuses non-ASCII str; no genuine key has any.
    if not code or not key.isascii() or not hmac.compare_digest(agency_key(settings, code), key):
        return None
    return code
