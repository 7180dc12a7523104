from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.identity import selectors, services
from apps.identity.forms import ProfileForm


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
