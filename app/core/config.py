"""Typed settings: one `Settings`, built by a cached `get_settings()`, never at import time."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"

# Public values (in this repository, docker/compose.yaml's defaults included): anyone can forge
# agency keys, tokens or IPNs with them, so only a local deployment may run on them.
DEMO_SECRET_KEY = "portalsim-development-secret-change-me-before-sharing"
DEMO_VNPAY_HASH_SECRET = "portalsim-demo-vnpay-hash-secret-0123456789"
DEMO_SECRETS: dict[str, frozenset[str]] = {
    "SECRET_KEY": frozenset(
        {DEMO_SECRET_KEY, "portalsim-compose-demo-secret-not-for-any-real-use"}
    ),
    "VNPAY_HASH_SECRET": frozenset({DEMO_VNPAY_HASH_SECRET}),
}
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")
# The least a connection timeout may be: below a tenth of a second, a client on a real network
# could not send a request's head in time.
MIN_CONNECTION_TIMEOUT = 0.1


class Settings(BaseSettings):
    """Every knob of the portal; environment variables override (e.g. `DATABASE_URL`)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_VAR_DIR / 'portalsim.db'}",
        description="sqlite:///path or postgresql://user@host/db; drivers are chosen by the app",
    )
    database_echo: bool = False
    # Per engine (a read one and a write one) and per worker process. Requests beyond the pool
    # wait for a connection rather than open one each (see app/core/db.py); after
    # DATABASE_POOL_TIMEOUT seconds they get 503 database_busy.
    database_pool_size: int = Field(default=20, ge=1)
    database_max_overflow: int = Field(default=0, ge=0)
    database_pool_timeout: float = Field(default=30.0, gt=0)
    # How long the catalogue's answers are kept in memory (app/catalogue/cache.py); 0: never.
    catalogue_cache_seconds: float = Field(default=60.0, ge=0)

    # "local" (one machine, loopback) accepts the public demo secrets with a warning at start;
    # "shared" (anything others can reach) refuses to start with them.
    deployment: Literal["local", "shared"] = "local"

    # Secrets: defaults are for a local mock only; set real ones in any shared deployment.
    secret_key: str = DEMO_SECRET_KEY
    token_ttl_minutes: int = 12 * 60
    sync_session_ttl_minutes: int = 60

    # Catalogue generator
    catalogue_seed: int = 0
    communes_per_province: int = 3

    # Documents
    document_dir: Path = DEFAULT_VAR_DIR / "documents"
    document_max_bytes: int = 10 * 1024 * 1024
    # Any request body; a multipart upload of several documents must fit in it.
    request_max_bytes: int = 64 * 1024 * 1024
    # Any body but a document upload: parsed whole, at 2-3x its size in memory. A 500-item
    # DongBoHoSoMC batch of fully filled records is 0.73 MiB (0.86 MiB \u-escaped, 1.1 MiB
    # indented), so 2 MiB leaves about twice that.
    json_max_bytes: int = 2 * 1024 * 1024
    document_types: list[str] = [
        "application/pdf",
        "image/jpeg",
        "image/png",
    ]

    # Working-time calendar (domain.md: windows, cut-off and the holiday set are settings)
    calendar_windows: list[tuple[time, time]] = [
        (time(7, 30), time(11, 30)),
        (time(13, 0), time(17, 0)),
    ]
    calendar_cutoff: time = time(15, 0)
    calendar_extra_days_off: list[date] = []
    calendar_extra_working_days: list[date] = []
    calendar_ignored_holidays: list[str] = []

    # Virtual clock: "real", or "accelerated" from clock_start at clock_speed simulated seconds
    # per real second (3600 = one real second is one simulated hour).
    clock_mode: Literal["real", "accelerated"] = "real"
    clock_start: datetime | None = None
    clock_speed: float = 1.0
    # The real instant at which virtual time equals clock_start. `portalsim serve` fixes it once
    # for all its worker processes, so that they agree on the virtual time; unset: app start.
    clock_anchor: datetime | None = None
    # Instead of an anchor: a file that will name it. The clock holds at clock_start until the
    # file appears (a load run's harness writes it when it is ready to start).
    clock_anchor_file: Path | None = None

    # Server
    host: str = "127.0.0.1"
    port: int = 8000
    # Both servers' connections (portal and gateway, app/core/http_server.py): a request's line
    # and headers must arrive within HTTP_HEADER_TIMEOUT_SECONDS of the connection's opening or
    # of the request's first byte, and a connection idle after a response is closed after
    # HTTP_KEEP_ALIVE_TIMEOUT_SECONDS; otherwise idle or half-sent connections hold a socket
    # and a file descriptor each for ever.
    http_header_timeout_seconds: float = Field(default=10.0, ge=MIN_CONNECTION_TIMEOUT)
    http_keep_alive_timeout_seconds: float = Field(default=5.0, ge=MIN_CONNECTION_TIMEOUT)

    # Online payment on the VNPay contract. The merchant (the portal) and the mock gateway read
    # the same code and secret; the defaults are demo values for loopback use only.
    vnpay_tmn_code: str = "PORTALSIM"
    vnpay_hash_secret: str = DEMO_VNPAY_HASH_SECRET
    vnpay_gateway_url: str = "http://127.0.0.1:8001"  # where the portal's pay URLs point
    vnpay_ipn_url: str = "http://127.0.0.1:8000/api/v1/payments/vnpay/ipn"  # registered IPN
    public_url: str = "http://127.0.0.1:8000"  # the portal as payers' browsers reach it
    payment_expiry_minutes: int = Field(default=15, ge=1)
    # Reconciliation: pending payments older than this are asked about (querydr), every
    # interval while serving (0: only `portalsim reconcile`).
    payment_reconcile_after_minutes: float = Field(default=5, ge=0)
    payment_reconcile_interval_seconds: float = Field(default=60, ge=0)

    # The mock gateway (`portalsim gateway`): its own server and its own ledger.
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8001
    gateway_database_url: str = Field(default=f"sqlite:///{DEFAULT_VAR_DIR / 'gateway.db'}")
    # Fault knobs, each "probability" or "probability:value" (see app/gateway/faults.py);
    # a request's X-Gateway-Faults header overrides them for that payment.
    gateway_faults: str = ""
    gateway_faults_seed: int = 0  # seeds the app's random.Random that rolls the fault knobs
    gateway_timeout_max_seconds: float = 60.0  # upper bound of the `timeout` knob's sleep
    gateway_expire_minutes: int = 15  # a pay URL without vnp_ExpireDate expires after this
    gateway_ipn_attempts: int = 5  # IPN deliveries per copy, the first one included
    gateway_ipn_backoff_seconds: float = 0.2  # wait before retry n: base x 2^(n-1)
    gateway_ipn_timeout_seconds: float = 5.0  # per IPN HTTP request

    # Fault injection in the portal (see app/core/faults.py for the syntax): off unless enabled,
    # so that no shared deployment can be provoked by a header it was never meant to honour.
    portal_faults_enabled: bool = False  # installs the middleware; X-Portal-Faults is honoured
    portal_faults: str = ""  # e.g. "POST /api/v1/dossiers: latency=0.5:200, error=0.01"
    portal_faults_seed: int = 0  # seeds the per-process random.Random that rolls the knobs

    @field_validator("clock_speed")
    @classmethod
    def _positive_speed(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("clock_speed must be positive")
        return value

    @field_validator("database_url", "gateway_database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        # Caught here, a typo is one line naming the setting, not a SQLAlchemy traceback later.
        scheme, separator, rest = value.partition("://")
        if not separator or scheme.split("+", 1)[0] not in DATABASE_SCHEMES:
            raise ValueError(
                f"{value!r} is not a database URL portalsim can use: "
                "give sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"
            )
        if "," not in rest.partition("/")[0]:  # one host (asyncpg also takes a list)
            try:
                urlsplit(value).port  # noqa: B018 (parsed for its ValueError)
            except ValueError as exc:
                raise ValueError(f"{value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _refusals(self) -> Settings:
        problem = settings_refusal(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def async_database_url(self) -> str:
        """The URL with the async driver this project uses for each database."""
        url = self.database_url
        for prefix, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(prefix):
                return driver + url[len(prefix) :]
        return url


def settings_refusal(settings: Settings) -> str | None:
    """Why these settings may not run, or None. Checked when Settings are built and again when
    an app is built, since `model_copy(update=...)` skips validation."""
    return faults_refusal(settings) or secrets_refusal(settings)


def faults_refusal(settings: Settings) -> str | None:
    """Why these settings may not run: PORTAL_FAULTS without PORTAL_FAULTS_ENABLED."""
    if settings.portal_faults.strip() and not settings.portal_faults_enabled:
        return "PORTAL_FAULTS is set but fault injection is off: set PORTAL_FAULTS_ENABLED=true"
    return None


def demo_secrets(settings: Settings) -> list[str]:
    """The secret settings left at a public demo value (names as environment variables)."""
    values = {"SECRET_KEY": settings.secret_key, "VNPAY_HASH_SECRET": settings.vnpay_hash_secret}
    return [name for name, value in values.items() if value in DEMO_SECRETS[name]]


def secrets_refusal(settings: Settings) -> str | None:
    """Why these settings may not run: public demo secrets in a shared deployment."""
    names = demo_secrets(settings)
    if settings.deployment != "shared" or not names:
        return None
    return (
        f"{' and '.join(names)} {'is' if len(names) == 1 else 'are'} the public demo "
        f"value{'' if len(names) == 1 else 's'} and DEPLOYMENT=shared: set your own "
        "(e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
