from app.core.errors import Conflict, NotFound


class DossierNotFound(NotFound):
    code = "dossier_not_found"


class DocumentNotFound(NotFound):
    code = "document_not_found"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class NumberingExhausted(Conflict):
    """The receiving agency's dossier numbers of the day are all given out."""

    code = "day_numbering_exhausted"


class NotAllowedNow(Conflict):
    """The action exists but the dossier's status does not allow it now."""

    code = "not_allowed_in_status"


class AlreadyRated(Conflict):
    code = "already_rated"
