from app.core.errors import InvalidInput, Unauthorized


class InvalidIdentifier(InvalidInput):
    code = "invalid_identifier"


class NameRequired(InvalidInput):
    code = "full_name_required"


class NotAuthenticated(Unauthorized):
    code = "not_authenticated"


class InvalidCredentials(Unauthorized):
    code = "invalid_token"
