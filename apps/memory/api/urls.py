from django.urls import path

from apps.memory.api import views

urlpatterns = [
    path("memory", views.MemoryView.as_view(), name="memory"),
    path(
        "memory/conversations", views.ConversationSummaryView.as_view(), name="memory-conversations"
    ),
]
