"""The refusals of the identity layer, each with its stable API code."""

from http import HTTPStatus

from apps.core.errors import ApplicationError


class EntitlementRequired(ApplicationError):
    code = "entitlement_required"
    status = HTTPStatus.FORBIDDEN


class QuotaExceeded(ApplicationError):
    code = "quota_exceeded"
    status = HTTPStatus.FORBIDDEN


class SpendLimitExceeded(ApplicationError):
    code = "spend_limit_exceeded"
    status = HTTPStatus.FORBIDDEN


class CapabilityNotGranted(ApplicationError):
    code = "capability_not_granted"
    status = HTTPStatus.FORBIDDEN


class AlreadySubscribed(ApplicationError):
    code = "already_subscribed"
    status = HTTPStatus.CONFLICT


class BillingUnavailable(ApplicationError):
    code = "billing_unavailable"
    status = HTTPStatus.SERVICE_UNAVAILABLE
