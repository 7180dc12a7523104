"""What payments tells the apps above it (dispatch) without importing them."""

from django.dispatch import Signal

# Sent after the commit that moved a payment: kwargs payment_id, status.
payment_status_changed = Signal()
