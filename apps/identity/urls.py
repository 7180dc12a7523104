from django.urls import path

from apps.identity import views

app_name = "identity"

urlpatterns = [
    path("", views.me, name="me"),
    path("plan/", views.plan, name="plan"),
    path("plan/upgrade/", views.plan_upgrade, name="plan-upgrade"),
    path("plan/billing/", views.plan_billing_portal, name="plan-billing"),
    path("agents/", views.agents, name="agents"),
    path("agents/<uuid:grant_id>/", views.agent_detail, name="agent-detail"),
    path("agents/<uuid:grant_id>/revoke/", views.agent_revoke, name="agent-revoke"),
]
