from django.dispatch import Signal

# Sent inside the transaction that appended an audit event, while the chain's head is
# locked, with `length` and `head`: trust signs the new head (apps.trust.audit).
audit_appended = Signal()
