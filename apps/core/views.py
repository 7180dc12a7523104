import functools

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from apps.core import cache, rate_limit
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
        # Hits allauth's limits (sign-in, sign-up, password reset) admitted unrecorded.
        "sign_in_rate_limit": {"admitted_unchecked": cache.admitted_unchecked()},
    }
    return JsonResponse(body, status=200 if healthy else 503)


def api_error(code: str, message: str, *, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)


# Nothing here changes state, so no CSRF check: otherwise a POST from a signed-in browser
# would get Django's HTML CSRF page instead of the API's answer.
@csrf_exempt
def api_not_found(request: HttpRequest) -> JsonResponse:
    """Unknown URLs under /api/ answer in the API's error format, not an HTML page (also
    with DEBUG on, where Django would show its own), whatever the method."""
    return api_error("not_found", "No API endpoint at this URL.", status=404)


def api_read_only(view):
    """For the schema and the docs, which are read with GET: any other method is the
    API's JSON 405 (their own renderers would answer it in YAML or HTML)."""

    @csrf_exempt
    @functools.wraps(view)
    def only_reads(request: HttpRequest, *args, **kwargs):
        if request.method in {"GET", "HEAD"}:
            return view(request, *args, **kwargs)
        message = f'Method "{request.method}" not allowed.'
        response = api_error("method_not_allowed", message, status=405)
        response["Allow"] = "GET, HEAD"
        return response

    return only_reads
