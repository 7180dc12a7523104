from django.urls import path

from apps.memory import views

app_name = "memory"

urlpatterns = [
    path("", views.memory_home, name="home"),
    path("consent/", views.consent_toggle, name="consent"),
    path("items/<int:item_id>/", views.item_edit, name="item-edit"),
    path("items/<int:item_id>/delete/", views.item_delete, name="item-delete"),
    path("export.json", views.export, name="export"),
    path("erase/", views.erase, name="erase"),
]
