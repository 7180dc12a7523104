from django.urls import path

from apps.payments.api import views

urlpatterns = [
    path("quotes", views.QuoteView.as_view(), name="quotes"),
    path("payments", views.PaymentCreateView.as_view(), name="payments"),
    path("payments/<uuid:payment_id>", views.PaymentView.as_view(), name="payment"),
]
