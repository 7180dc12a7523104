"""What trust tells the apps above it (dispatch) without importing them."""

from django.dispatch import Signal

# Sent after the commit that opened, withdrew or resolved a dispute: kwargs receipt_id,
# dispute_id, status (the dispute's new status).
dispute_changed = Signal()
