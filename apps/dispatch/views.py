import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.catalog import selectors as catalog_selectors
from apps.dispatch import selectors


@require_GET
def agent_card(request: HttpRequest) -> JsonResponse:
    """The A2A agent card: what GeraOS can do, for standard agent clients to discover."""
    base = settings.GERAOS_PUBLIC_URL
    skills = [
        {
            "id": skill.capability,
            "name": skill.title,
            "description": skill.description,
            "tags": [skill.product.code, *skill.capability.split("."), *skill.synonyms],
            "examples": skill.examples,
            "inputModes": ["application/json", "text/plain"],
            "outputModes": ["application/json"],
        }
        for skill in catalog_selectors.skill_list_published()
    ]
    card = {
        "protocolVersion": "0.3.0",
        "name": "GeraOS",
        "description": "Books, buys and pays for things for a user, with a signed receipt.",
        "url": f"{base}/api/v1/",
        "preferredTransport": "HTTP+JSON",
        "version": "1.0.0",
        "provider": {"organization": "Gera Systems", "url": base},
        "capabilities": {"streaming": False, "pushNotifications": True},
        "securitySchemes": {"agentToken": {"type": "http", "scheme": "bearer"}},
        "security": [{"agentToken": []}],
        "defaultInputModes": ["application/json", "text/plain"],
        "defaultOutputModes": ["application/json"],
        "skills": skills,
    }
    response = JsonResponse(card)
    response["Cache-Control"] = "public, max-age=300"
    return response


@login_required
@require_GET
def dispatch_list(request: HttpRequest) -> HttpResponse:
    """What agents did for the signed-in user, newest first; ?agent=<grant id> narrows it."""
    grant_id = _uuid_or_none(request.GET.get("agent", ""))
    orders = selectors.dispatch_list_for_user(user=request.user, grant_id=grant_id, limit=100)
    return render(request, "dispatch/list.html", {"orders": orders, "filtered": grant_id})


@login_required
@require_GET
def dispatch_detail(request: HttpRequest, order_id) -> HttpResponse:
    order = selectors.dispatch_get_for_user(user=request.user, order_id=order_id)
    if order is None:
        raise Http404
    return render(request, "dispatch/detail.html", {"order": order})


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
