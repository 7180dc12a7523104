from http import HTTPStatus

from apps.core.errors import ApplicationError


class ConsentRequired(ApplicationError):
    code = "consent_required"
    status = HTTPStatus.FORBIDDEN


class ValueTooLarge(ApplicationError):
    code = "value_too_large"
    status = HTTPStatus.BAD_REQUEST
