import os
import time
from pathlib import Path

from allauth.mfa import app_settings as mfa_settings
from playwright.sync_api import expect

from apps.identity.models import User
from tests.factories import PASSWORD
from tests.helpers import give_totp, totp_code

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def sign_in(page, email: str) -> None:
    _enter_password(page, email)
    expect(page.get_by_role("heading", name="My account")).to_be_visible()


def sign_in_as_operator(page, operator: User) -> None:
    """Password, then a code from the operator's authenticator app: the admin needs both."""
    give_totp(operator)
    _enter_password(page, operator.email)
    page.get_by_placeholder("Code").fill(_code_with_time_to_use_it())
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()


def _code_with_time_to_use_it(seconds: float = 5) -> str:
    """The current code, taken once its step has `seconds` left to reach the server: a
    code typed as its step ends is refused (the allowed drift is none), which had failed a
    sign-in now and then."""
    left = mfa_settings.TOTP_PERIOD - time.time() % mfa_settings.TOTP_PERIOD
    if left < seconds:
        time.sleep(left)
    return totp_code()


def _enter_password(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


def screenshot(page, name: str) -> None:
    """The whole page as docs/screenshots/<name>.png, which the README shows; only with
    GERAOS_SCREENSHOTS=1, so an ordinary test run leaves the tree as it was."""
    if os.environ.get("GERAOS_SCREENSHOTS") == "1":
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
