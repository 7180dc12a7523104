import re
import uuid

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.urls import NoReverseMatch, reverse

# A request id a proxy in front of us set, if it looks like one; otherwise we make one.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestIdMiddleware:
    """Gives every request an id (`request.request_id`, echoed as X-Request-ID) that the
    audit log records, so an operator action can be found in the access logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Only our own proxy's id is taken: a client's own could pose as another request's.
        offered = request.headers.get("X-Request-ID", "") if settings.BEHIND_TLS_PROXY else ""
        request.request_id = offered if _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy (CONTENT_SECURITY_POLICY), with what the admin and the API
    docs add to it (GERAOS_CSP_ADDS); the rest of the API, JSON only, allows nothing
    (GERAOS_CSP_API)."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        path = request.path_info
        for root, adds in settings.GERAOS_CSP_ADDS.items():
            if (prefix := _path_of(root)) and path.startswith(prefix):
                parts.update = {**adds, **(parts.update or {})}
                return parts
        if path.startswith("/api/"):
            parts.config = parts.config or settings.GERAOS_CSP_API
        return parts


def _path_of(url_name: str) -> str | None:
    """The URL of `url_name`, or None where the URLconf has none (a test's own)."""
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


class PermissionsPolicyMiddleware:
    """Permissions-Policy: the browser features GeraOS's pages may use (none of those in
    GERAOS_PERMISSIONS_POLICY, each with an empty allowlist)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})"
            for feature, origins in settings.GERAOS_PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.header)
        return response
