from http import HTTPStatus

from apps.core.errors import ApplicationError


class NoRailAvailable(ApplicationError):
    code = "no_rail_available"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class AmountOutOfRange(ApplicationError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class RateUnavailable(ApplicationError):
    code = "fx_rate_unavailable"
    status = HTTPStatus.SERVICE_UNAVAILABLE


class UnsupportedCurrency(ApplicationError):
    """A currency GeraOS holds no exchange rate for: what the caller asked cannot be priced."""

    code = "unsupported_currency"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class SandboxNotAllowed(ApplicationError):
    """A sandbox rail where sandbox is not allowed (DEBUG off, GERAOS_SANDBOX_ALLOWED
    unset): its simulators and published webhook secret must not touch real money."""

    code = "sandbox_not_allowed"
    status = HTTPStatus.CONFLICT
