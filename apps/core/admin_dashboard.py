"""The operator dashboard (admin index) and sidebar permission checks for unfold.

Each app contributes its headline numbers through a function listed in
GERAOS_DASHBOARD_KPIS, so core knows nothing of the apps above it.
"""

from django.conf import settings
from django.http import HttpRequest
from django.utils.module_loading import import_string


def can_view_users(request: HttpRequest) -> bool:
    return request.user.has_perm("identity.view_user")


def dashboard_callback(request: HttpRequest, context: dict) -> dict:
    context["kpis"] = [
        kpi
        for dotted_path in settings.GERAOS_DASHBOARD_KPIS
        for kpi in import_string(dotted_path)()
    ]
    return context
