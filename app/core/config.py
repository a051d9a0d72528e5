"""Typed settings: one `Settings`, built by a cached `get_settings()`, never at import time."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"


class Settings(BaseSettings):
    """Every knob of the portal; environment variables override (e.g. `DATABASE_URL`)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_VAR_DIR / 'portalsim.db'}",
        description="sqlite:///path or postgresql://user@host/db; drivers are chosen by the app",
    )
    database_echo: bool = False
    database_pool_size: int = 10
    database_max_overflow: int = 10

    # Secrets: defaults are for a local mock only; set real ones in any shared deployment.
    secret_key: str = "portalsim-development-secret-change-me-before-sharing"
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

    # Server
    host: str = "127.0.0.1"
    port: int = 8000

    # Online payment on the VNPay contract. The merchant (the portal) and the mock gateway read
    # the same code and secret; the defaults are demo values for loopback use only.
    vnpay_tmn_code: str = "PORTALSIM"
    vnpay_hash_secret: str = "portalsim-demo-vnpay-hash-secret-0123456789"
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

    @model_validator(mode="after")
    def _faults_need_enabling(self) -> Settings:
        problem = faults_refusal(self)
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


def faults_refusal(settings: Settings) -> str | None:
    """Why these settings may not run: PORTAL_FAULTS without PORTAL_FAULTS_ENABLED."""
    if settings.portal_faults.strip() and not settings.portal_faults_enabled:
        return "PORTAL_FAULTS is set but fault injection is off: set PORTAL_FAULTS_ENABLED=true"
    return None


@lru_cache
def get_settings() -> Settings:
    return Settings()


def _app_settings(request: Request) -> Settings:
    """The settings the running app was built with (tests build apps with their own)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_app_settings)]
