from django.urls import path

from apps.dispatch import views

app_name = "dispatch"

urlpatterns = [
    path("", views.dispatch_list, name="list"),
    path("<uuid:order_id>/", views.dispatch_detail, name="detail"),
]
