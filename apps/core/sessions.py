"""Sessions sealed at rest (SESSION_ENGINE). Django signs a session but does not encrypt
it, and allauth keeps in it the secret of an authenticator app being set up until its
first code is confirmed; so each session is sealed under GERAOS_SEALING_KEYS, bound to its
session key, in the database table Django's own backend uses."""

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from apps.core import sealing


def _context(session_key: str) -> str:
    return f"django.session:{session_key}"


class SessionStore(db.SessionStore):
    def encode(self, session_dict) -> str:
        return sealing.seal_text(super().encode(session_dict), context=_context(self.session_key))

    def decode(self, session_data: str) -> dict:
        try:
            signed = sealing.open_text(session_data, context=_context(self.session_key))
        except sealing.UndecryptableValue:
            return {}  # as Django answers a session it cannot read: one signed out
        return super().decode(signed)


def _live_under_old_keys():
    current = sealing.keyring(sealing.SEALING_KEYS).current_prefix
    live = Session.objects.filter(expire_date__gt=timezone.now())
    return live.exclude(session_data__startswith=current)


def sessions_under_old_keys() -> int:
    """How many live sessions are not sealed with the primary sealing key."""
    return _live_under_old_keys().count()


def sessions_reseal(*, batch_size: int = 500) -> int:
    """Move every live session not sealed with the primary sealing key onto it, so that
    dropping the old key signs no one out; returns how many moved. One that no key opens
    signs no one in: it is deleted."""
    moved = 0
    while batch := list(_live_under_old_keys().values_list("pk", flat=True)[:batch_size]):
        with transaction.atomic():
            for session in Session.objects.select_for_update().filter(pk__in=batch):
                context = _context(session.session_key)
                try:
                    session.session_data = sealing.reseal_text(
                        session.session_data, context=context
                    )
                except sealing.UndecryptableValue:
                    session.delete()
                    continue
                session.save(update_fields=["session_data"])
                moved += 1
    return moved
