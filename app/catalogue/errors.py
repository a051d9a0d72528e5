from app.core.errors import InvalidInput, NotFound, Unauthorized


class ProcedureNotFound(NotFound):
    code = "procedure_not_found"


class UnknownProcedure(InvalidInput):
    code = "unknown_procedure"


class UnknownAgency(InvalidInput):
    code = "unknown_agency"


class AgencyDoesNotHandleProcedure(InvalidInput):
    code = "agency_does_not_handle_procedure"


class InvalidAgencyKey(Unauthorized):
    code = "invalid_agency_key"
