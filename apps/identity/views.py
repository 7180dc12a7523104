from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.errors import ApplicationError
from apps.identity import billing, selectors, services
from apps.identity.forms import AgentGrantForm, PlanChoiceForm, ProfileForm
from apps.identity.models import Plan


@login_required
@require_http_methods(["GET", "POST"])
def me(request: HttpRequest) -> HttpResponse:
    """The signed-in user's home: profile, and the state of their account security."""
    user = request.user
    form = ProfileForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        services.user_update_profile(user=user, **form.cleaned_data)
        messages.success(request, "Profile saved.")
        return redirect("identity:me")
    context = {
        "form": form,
        "email_verified": selectors.user_email_verified(user=user),
        "mfa_enabled": selectors.user_mfa_enabled(user=user),
    }
    return render(request, "identity/me.html", context)


# --- plan -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def plan(request: HttpRequest) -> HttpResponse:
    current, entitlements = selectors.entitlement_summary(user=request.user)
    context = {
        "plan": current,
        "entitlements": entitlements,
        "subscription": selectors.subscription_for_user(user=request.user),
        "upgrades": Plan.objects.filter(price__gt=current.price),
        "billing_on": billing.is_configured(),
    }
    return render(request, "identity/plan.html", context)


@login_required
@require_POST
def plan_upgrade(request: HttpRequest) -> HttpResponse:
    form = PlanChoiceForm(request.POST)
    if not form.is_valid():
        raise Http404("No such plan.")
    target = get_object_or_404(Plan, code=form.cleaned_data["plan"])
    back = request.build_absolute_uri(reverse("identity:plan"))
    try:
        url = billing.checkout_start(
            user=request.user, plan=target, success_url=back + "?upgraded=1", cancel_url=back
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("identity:plan")
    return redirect(url)


@login_required
@require_POST
def plan_billing_portal(request: HttpRequest) -> HttpResponse:
    back = request.build_absolute_uri(reverse("identity:plan"))
    try:
        return redirect(billing.portal_url(user=request.user, return_url=back))
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("identity:plan")


# --- agent grants -----------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def agents(request: HttpRequest) -> HttpResponse:
    form = AgentGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant, token = services.agent_grant_issue(user=request.user, **form.grant_kwargs())
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            # The token is shown in this response only; it is never stored or shown again.
            return render(request, "identity/agent_token.html", {"grant": grant, "token": token})
    grants = selectors.agent_grant_list(user=request.user)
    return render(request, "identity/agents.html", {"form": form, "grants": grants})


@login_required
@require_http_methods(["GET"])
def agent_detail(request: HttpRequest, grant_id) -> HttpResponse:
    grant = selectors.agent_grant_get(user=request.user, grant_id=grant_id)
    if grant is None:
        raise Http404("No such agent grant.")
    spends = grant.spends.order_by("-created_at")[:20]
    return render(request, "identity/agent_detail.html", {"grant": grant, "spends": spends})


@login_required
@require_POST
def agent_revoke(request: HttpRequest, grant_id) -> HttpResponse:
    grant = selectors.agent_grant_get(user=request.user, grant_id=grant_id)
    if grant is None:
        raise Http404("No such agent grant.")
    services.agent_grant_revoke(grant=grant, reason="revoked by the user")
    messages.success(request, f"{grant.name} can no longer act for you.")
    return redirect("identity:agents")
