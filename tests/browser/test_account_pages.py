"""A person in a real browser: sign up, verify the email, sign in, edit the profile."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from apps.identity.models import User

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "a-long-and-unusual-passphrase-42"


def test_signup_verify_sign_in_and_edit_profile(page):
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()

    (message,) = mail.outbox
    confirm_path = re.search(r"https?://[^/]+(/accounts/confirm-email/\S+/)", message.body)[1]
    page.goto(confirm_path)
    page.get_by_role("button", name="Confirm").click()

    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    expect(page.get_by_text("verified", exact=True)).to_be_visible()

    page.get_by_label("Country").select_option("KE")
    page.get_by_label("Preferred currency").select_option("KES")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Profile saved.")).to_be_visible()

    user = User.objects.get(email="grace@example.com")
    assert (user.country.code, user.preferred_currency) == ("KE", "KES")
