from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from apps.trust import selectors


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    """Every public key that signed receipts or checkpoints (RFC 7517 key set)."""
    response = JsonResponse(selectors.jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response
