"""Refusals as the API renders them: `{"error": {"code", "message", "fields", ...}}`, so an
agent reads the same machine-readable codes over MCP as over `/api/v1/`."""

from drf_standardized_errors.handler import exception_handler


def error_body(exc: Exception) -> tuple[int, dict]:
    """The status and body the API's exception handler gives `exc`: a domain refusal keeps
    its code and status; anything unexpected is logged with its traceback (and sent to
    `got_request_exception`) and answered `error`, 500, as the API answers it."""
    response = exception_handler(exc, {"view": None, "args": (), "kwargs": {}, "request": None})
    return response.status_code, response.data
