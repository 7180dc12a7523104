"""One error format for every API error, on top of drf-standardized-errors.

    {"error": {"code": "validation_error", "message": "...",
               "fields": {"email": [{"code": "invalid", "message": "..."}]},
               "details": {...}}}

`code` is stable and machine-readable; `fields` is present (possibly empty) on every
error; `details` carries structured context of an ApplicationError (e.g. the scope
that needs consent) and is omitted when there is none.
"""

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_standardized_errors.formatter import ExceptionFormatter, flatten_errors
from drf_standardized_errors.handler import ExceptionHandler as BaseExceptionHandler
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error

from apps.core.errors import ApplicationError

VALIDATION_MESSAGE = "Some fields are invalid; see `fields`."


class ApplicationAPIException(exceptions.APIException):
    def __init__(self, error: ApplicationError) -> None:
        self.status_code = error.status
        super().__init__(detail=error.message, code=error.code)


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "request_too_large"
    default_detail = "The request body is larger than GeraOS accepts."


class ExceptionHandler(BaseExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, ApplicationError):
            return ApplicationAPIException(exc)
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLarge()
        if isinstance(exc, DjangoValidationError):
            return exceptions.ValidationError(as_serializer_error(exc))
        return super().convert_known_exceptions(exc)


class ErrorFormatter(ExceptionFormatter):
    def run(self) -> dict:
        if isinstance(self.exc, exceptions.ValidationError):
            error = {
                "code": "validation_error",
                "message": VALIDATION_MESSAGE,
                "fields": self._fields(),
            }
        else:
            first = flatten_errors(self.exc.detail)[0]
            error = {"code": first.code, "message": str(first.detail), "fields": {}}
        if isinstance(self.original_exc, ApplicationError):
            error["fields"] = self.original_exc.fields
            if self.original_exc.extra:
                error["details"] = self.original_exc.extra
        return {"error": error}

    def _fields(self) -> dict[str, list[dict[str, str]]]:
        fields: dict[str, list[dict[str, str]]] = {}
        for item in flatten_errors(self.exc.detail):
            fields.setdefault(item.attr or "non_field_errors", []).append(
                {"code": item.code, "message": str(item.detail)}
            )
        return fields
