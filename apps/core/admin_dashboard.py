"""The operator dashboard (admin index) and sidebar permission checks for unfold."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils import timezone


def can_view_users(request: HttpRequest) -> bool:
    return request.user.has_perm("identity.view_user")


def dashboard_callback(request: HttpRequest, context: dict) -> dict:
    users = get_user_model().objects
    week_ago = timezone.now() - timedelta(days=7)
    context["kpis"] = [
        {"title": "Accounts", "value": users.count()},
        {"title": "New this week", "value": users.filter(date_joined__gte=week_ago).count()},
        {"title": "Operators", "value": users.filter(is_staff=True).count()},
    ]
    return context
