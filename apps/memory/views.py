import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.catalog.selectors import product_get_active
from apps.memory import policy, selectors, services
from apps.memory.forms import ConsentToggleForm, EraseForm, MemoryValueForm


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


@never_cache
@login_required
@require_GET
def memory_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    products, grid = selectors.consent_grid(user=user)
    items = selectors.memory_items_for_user(user=user)
    for item in items:
        item.value_json = json.dumps(item.value, ensure_ascii=False)
    log = [selectors.access_log_sentence(entry) for entry in selectors.access_log(user=user)]
    context = {
        "products": products,
        "grid": grid,
        "standings": policy.READ_STANDINGS,
        "items": items,
        "log": log,
    }
    return render(request, "memory/home.html", context)


@login_required
@require_POST
def consent_toggle(request: HttpRequest) -> HttpResponse:
    form = ConsentToggleForm(request.POST)
    product = scope = None
    if form.is_valid():
        product = product_get_active(code=form.cleaned_data["product"])
        scope = selectors.memory_scope_get(code=form.cleaned_data["scope"])
    if product is None or scope is None:
        if _wants_json(request):
            return JsonResponse(
                {"error": {"code": "invalid", "message": "Unknown cell."}}, status=400
            )
        messages.error(request, "That consent setting does not exist.")
        return redirect("memory:home")
    allow = form.cleaned_data["allow"]
    services.consent_set(user=request.user, product=product, scope=scope, allow=allow)
    state = policy.ReadStanding.ON if allow else policy.ReadStanding.OFF
    if _wants_json(request):
        return JsonResponse(
            {
                "product": product.code,
                "scope": scope.code,
                "state": state,
                "label": state.label,
                "tone": policy.READ_STANDINGS.tones[state],
            }
        )
    messages.success(request, f"{product.name} — {scope.name}: {state.label}.")
    return redirect("memory:home")


def _own_item(request: HttpRequest, item_id: int):
    item = selectors.memory_item_get(user=request.user, item_id=item_id)
    if item is None:
        raise Http404("No such memory item.")
    return item


@login_required
@require_POST
def item_edit(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _own_item(request, item_id)
    form = MemoryValueForm(request.POST)
    if form.is_valid():
        services.memory_item_update_value(
            user=request.user, item=item, value=form.cleaned_data["value"]
        )
        messages.success(request, f"Saved {item.scope.name} / {item.key}.")
    else:
        messages.error(request, " ".join(form.errors["value"]))
    return redirect("memory:home")


@login_required
@require_POST
def item_delete(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _own_item(request, item_id)
    services.memory_item_delete(user=request.user, item=item)
    messages.success(request, f"Deleted {item.scope.name} / {item.key}.")
    return redirect("memory:home")


@never_cache
@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(
        services.memory_export(user=request.user), json_dumps_params={"indent": 2}
    )
    response["Content-Disposition"] = 'attachment; filename="gera-memory.json"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def erase(request: HttpRequest) -> HttpResponse:
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        count = services.memory_erase(user=request.user)
        messages.success(request, f"Erased {count} memory items; the access log shows it.")
        return redirect("memory:home")
    return render(request, "memory/erase.html", {"form": form})
