from app.core.errors import InvalidInput, NotFound


class UnknownScope(NotFound):
    code = "scope_not_found"


class InvalidPeriod(InvalidInput):
    code = "invalid_period"


class InvalidScope(InvalidInput):
    code = "invalid_scope"
