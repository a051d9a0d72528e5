"""The dossier's vocabulary beside its statuses: who acts on it, how it was handed in, and who
told the portal about a step. The stored values are the contract's and the database's."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class ActorKind(StrEnum):
    CITIZEN = "citizen"
    AGENCY = "agency"
    SYSTEM = "system"  # the gateway's IPN, the reconciler, a replayed sync step


class Channel(IntEnum):
    """KenhThucHien of the national sync contract."""

    IN_PERSON = 1
    ONLINE = 2
    POST = 3


class EventOrigin(StrEnum):
    PORTAL = "portal"  # a step taken through the portal's own API
    SYNC = "sync"  # a step a back office reported on the sync contract
