"""Every operator page issues a constant number of queries whatever the number of rows: for
each registered ModelAdmin, its changelist, one change page and its add page are counted
with one row of the model and with thirty, and must also stay under a ceiling."""

from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.admin_rows import ROWS, rails_and_rates

pytestmark = pytest.mark.django_db

MANY = 30
CEILING = 30


@dataclass(frozen=True)
class Counts:
    changelist: int
    change: int
    add: int | None


def queries(client: Client, url: str) -> int:
    client.get(url)  # warm the caches (content types, the site's settings) first
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def count_pages(client: Client, model: type[Model], model_admin) -> Counts:
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    request = client.get(reverse(f"{name}_changelist")).wsgi_request
    first = model_admin.get_queryset(request).order_by("pk").first()
    return Counts(
        changelist=queries(client, reverse(f"{name}_changelist")),
        change=queries(client, reverse(f"{name}_change", args=[first.pk])),
        add=queries(client, reverse(f"{name}_add"))
        if model_admin.has_add_permission(request)
        else None,
    )


@pytest.fixture(autouse=True)
def _rails_and_rates(db):
    rails_and_rates()


def test_every_registered_model_has_rows_to_count():
    """A new operator screen is counted too: it fails here until ROWS can build its rows."""
    registered = {model._meta.label_lower for model in admin.site._registry}

    assert registered == set(ROWS)


@pytest.mark.parametrize("label", sorted(ROWS))
def test_pages_issue_as_many_queries_for_thirty_rows_as_for_one(label, operator_client):
    model = next(m for m in admin.site._registry if m._meta.label_lower == label)
    model_admin = admin.site._registry[model]
    build = ROWS[label]

    build(0)
    with_one = count_pages(operator_client, model, model_admin)
    for n in range(1, MANY):
        build(n)
    with_many = count_pages(operator_client, model, model_admin)

    assert with_many == with_one
    assert max(with_many.changelist, with_many.change, with_many.add or 0) <= CEILING, with_many
