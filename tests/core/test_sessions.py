"""Sessions are sealed at rest: a database dump reads none (allauth keeps the secret of
an authenticator app being set up in one), and each opens only under its own key."""

from importlib import import_module

import pytest
from django.apps import apps as installed_apps
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as SignedSessionStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from apps.core import sessions

pytestmark = pytest.mark.django_db

SEALING_MIGRATION = "apps.core.migrations.0005_seal_sessions"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def is_signed_in(client: Client) -> bool:
    return client.get(reverse("identity:me")).status_code == 200


def stored(client: Client) -> str:
    return Session.objects.get(pk=client.session.session_key).session_data


def test_a_session_is_sealed_and_still_signs_its_user_in(user):
    client = signed_in(user)

    assert stored(client).startswith("v1.test1.")
    assert is_signed_in(client)


def test_a_session_copied_onto_another_sessions_row_does_not_open(user, other_user):
    own, victims = signed_in(other_user), signed_in(user)

    Session.objects.filter(pk=own.session.session_key).update(session_data=stored(victims))

    assert not is_signed_in(own)


def test_sessions_signed_before_the_migration_are_sealed_by_it_and_stay_signed_in(user):
    before = SignedSessionStore()  # Django's own backend, as sessions were stored before
    before[SESSION_KEY] = str(user.pk)
    before[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    before[HASH_SESSION_KEY] = user.get_session_auth_hash()
    before.create()
    signed = Session.objects.get(pk=before.session_key).session_data
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = before.session_key
    assert not is_signed_in(client)  # the sealing store does not read a signed session

    import_module(SEALING_MIGRATION).seal_sessions(installed_apps, None)

    assert Session.objects.get(pk=before.session_key).session_data.startswith("v1.test1.")
    assert is_signed_in(client)
    import_module(SEALING_MIGRATION).open_sessions(installed_apps, None)
    assert Session.objects.get(pk=before.session_key).session_data == signed


def test_a_session_no_key_opens_is_deleted_by_the_rotation(user):
    client = signed_in(user)
    Session.objects.filter(pk=client.session.session_key).update(session_data="v1.gone.AAAA")

    sessions.sessions_reseal()

    assert not Session.objects.exists()
