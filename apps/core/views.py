from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core import rate_limit
from apps.core.health import run_health_checks


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, checks = run_health_checks()
    failed = [name for name, result in checks.items() if result.startswith("failed")]
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": checks,
        "failed": failed,
        # This process's count: API calls let through unchecked while Redis was away.
        "rate_limit": {"admitted_unchecked": rate_limit.admitted_unchecked()},
    }
    return JsonResponse(body, status=200 if healthy else 503)


def api_not_found(request: HttpRequest) -> JsonResponse:
    """Unknown URLs under /api/ answer in the API's error format, not an HTML page (also
    with DEBUG on, where Django would show its own)."""
    error = {"code": "not_found", "message": "No API endpoint at this URL.", "fields": {}}
    return JsonResponse({"error": error}, status=404)
