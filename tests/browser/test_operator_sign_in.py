"""A new operator in a real browser: the admin first has them set up an authenticator
app, then asks for a second factor whenever their session has not had one."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.factories import PASSWORD, UserFactory
from tests.helpers import totp_code

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_a_new_operator_sets_up_an_authenticator_app_before_reaching_the_admin(page):
    operator = UserFactory(is_staff=True, is_superuser=True)
    sign_in(page, operator.email)

    page.goto("/admin/")
    expect(page.get_by_text("Operators need two-factor authentication")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)  # allauth asks before adding a factor
    page.get_by_role("button", name="Confirm").click()
    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    recovery_code = page.get_by_label("Unused codes").input_value().split()[0]

    page.goto("/admin/")
    expect(page.get_by_text("Enter a code from your authenticator app")).to_be_visible()
    page.get_by_placeholder("Code").fill(recovery_code)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_text("Operator portal")).to_be_visible()
