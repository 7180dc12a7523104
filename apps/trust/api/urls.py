from django.urls import path

from apps.trust.api import views

urlpatterns = [
    path("receipts/verify", views.ReceiptVerifyView.as_view(), name="receipt-verify"),
    path("receipts/<uuid:receipt_id>", views.ReceiptView.as_view(), name="receipt"),
    path(
        "receipts/<uuid:receipt_id>/bundle",
        views.ReceiptBundleView.as_view(),
        name="receipt-bundle",
    ),
    path(
        "receipts/<uuid:receipt_id>/disputes",
        views.ReceiptDisputesView.as_view(),
        name="receipt-disputes",
    ),
    path("disputes/<uuid:dispute_id>", views.DisputeView.as_view(), name="dispute"),
    path("log/head", views.LogHeadView.as_view(), name="log-head"),
    path("log/proof/inclusion", views.InclusionProofView.as_view(), name="log-inclusion"),
    path("log/proof/consistency", views.ConsistencyProofView.as_view(), name="log-consistency"),
]
