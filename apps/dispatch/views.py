import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.dateformat import format as format_date
from django.views.decorators.http import require_GET

from apps.catalog import selectors as catalog_selectors
from apps.dispatch import resolver, selectors
from apps.dispatch.models import DispatchOrder

DAY_AND_TIME = "D j M Y, H:i"


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
    return render(
        request, "dispatch/detail.html", {"order": order, "local": _provider_local_times(order)}
    )


def _provider_local_times(order: DispatchOrder) -> dict[str, str]:
    """The window asked for and the booked time as the provider's city keeps time (a
    plumber in Lagos comes at 08:00 Lagos time, whatever the server's clock says). A
    booked time the provider wrote in some other form is shown as written."""
    zone = ZoneInfo(resolver.provider_timezone(order.provider))
    zone_name = f"({order.provider.city} time)"
    local = {}
    window = order.intent.get("window")
    if window:
        start, end = (
            dt.datetime.fromisoformat(window[edge]).astimezone(zone) for edge in ("start", "end")
        )
        end_format = "H:i" if end.date() == start.date() else DAY_AND_TIME
        local["window"] = (
            f"{format_date(start, DAY_AND_TIME)} to {format_date(end, end_format)} {zone_name}"
        )
    booked_for = (order.confirmation or {}).get("scheduled_for", "")
    in_zone = _in_zone(booked_for, zone)
    local["booked_for"] = f"{in_zone} {zone_name}" if in_zone else booked_for
    return local


def _in_zone(moment: str, zone: ZoneInfo) -> str:
    """An ISO 8601 time with an offset, formatted in `zone`; "" for anything else."""
    try:
        parsed = dt.datetime.fromisoformat(moment)
        return format_date(parsed.astimezone(zone), DAY_AND_TIME) if parsed.tzinfo else ""
    except (ValueError, OverflowError):  # not a time, or one past the calendar's end
        return ""


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
