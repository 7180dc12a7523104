from django.urls import path

from apps.dispatch.api import views

urlpatterns = [
    path("skills", views.SkillListView.as_view(), name="skills"),
    path("skills/<int:skill_id>", views.SkillDetailView.as_view(), name="skill"),
    path("intents/resolve", views.ResolveView.as_view(), name="intents-resolve"),
    path("dispatches", views.DispatchListView.as_view(), name="dispatches"),
    path("dispatches/<uuid:order_id>", views.DispatchDetailView.as_view(), name="dispatch"),
]
