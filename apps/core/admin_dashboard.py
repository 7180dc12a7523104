"""unfold's hooks: the operator dashboard (admin index) and the badge stylesheet the
user pages share.

Each app contributes a section of headline numbers through a function named in
GERAOS_DASHBOARD_KPIS, so core knows nothing of the apps above it.
"""

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest
from django.templatetags.static import static
from django.utils.module_loading import import_string

from apps.core.dashboard import PERIODS, period_named


def badge_stylesheet(request: HttpRequest) -> str:
    return static("css/badges.css")


def _may_see_app_of(user, dotted_path: str) -> bool:
    """A section shows only to users the admin shows its app to: its numbers are that
    app's business."""
    app_label = apps.get_containing_app_config(dotted_path).label
    return user.has_module_perms(app_label)


def dashboard_callback(request: HttpRequest, context: dict) -> dict:
    period = period_named(request.GET.get("period", ""))
    context["period"] = period
    context["periods"] = [(key, label) for key, (label, _) in PERIODS.items()]
    context["kpi_sections"] = [
        {"title": title, "cards": import_string(dotted_path)(period)}
        for title, dotted_path in settings.GERAOS_DASHBOARD_KPIS.items()
        if _may_see_app_of(request.user, dotted_path)
    ]
    return context
