"""The one exception type a service raises when a business rule says no."""

from http import HTTPStatus


class ApplicationError(Exception):
    """A refused operation with a stable, machine-readable `code`.

    Services raise it; the API renders it as `{"error": {"code", "message", "fields"}}`
    with `status` (a 4xx), and web pages show `message`. Subclass per domain when a
    caller needs to catch one kind specifically.
    """

    code = "application_error"
    status = HTTPStatus.BAD_REQUEST

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        fields: dict | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.status = HTTPStatus(status or self.status)
        self.fields = fields or {}
        self.extra = extra or {}


class NotFoundError(ApplicationError):
    code = "not_found"
    status = HTTPStatus.NOT_FOUND


class PermissionDeniedError(ApplicationError):
    code = "permission_denied"
    status = HTTPStatus.FORBIDDEN


class ConflictError(ApplicationError):
    code = "conflict"
    status = HTTPStatus.CONFLICT
