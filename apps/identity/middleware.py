"""Operators reach the admin only with two-factor authentication (README "Accounts"), and
forms on the way to a Sign in with Gera client may end at that client."""

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from apps.core.audit import session_used_mfa
from apps.identity.oidc.redirects import client_destinations

# The admin's login is allauth's own, and anyone may sign out.
_ADMIN_VIEWS_WITHOUT_MFA = frozenset({"login", "logout"})


class StaffMFAMiddleware:
    """Before any admin page, a staff member without an authenticator is sent to set one
    up, and one whose session was signed in without it is asked for a code."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match.app_name != "admin" or match.url_name in _ADMIN_VIEWS_WITHOUT_MFA:
            return None
        if not (request.user.is_authenticated and request.user.is_staff):
            return None  # the admin refuses them itself
        if session_used_mfa(request):
            return None
        if not is_mfa_enabled(request.user):
            messages.warning(
                request,
                "Operators need two-factor authentication: set up an authenticator app, "
                "then open the admin again.",
            )
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        messages.info(request, "Enter a code from your authenticator app to open the admin.")
        next_url = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
        return HttpResponseRedirect(f"{reverse('mfa_reauthenticate')}?{next_url}")


# Pages whose form may end, after redirects, at a client: signing in (and its second
# factor) on the way to the consent page, the consent page, and signing out.
_PATHS_TOWARDS_CLIENTS = ("/accounts/", "/identity/o/")


class ClientFormTargetsMiddleware:
    """Browsers hold a form's submission, redirects included, to the page's CSP
    form-action: these pages add the origins clients registered to be sent back to."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        towards_clients = request.path_info.startswith(_PATHS_TOWARDS_CLIENTS)
        if towards_clients and _is_page(response) and (targets := client_destinations()):
            update = getattr(response, "_csp_update", None) or {}
            targets = [*update.get("form-action", []), *targets]
            response._csp_update = {**update, "form-action": targets}
        return response


def _is_page(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")
