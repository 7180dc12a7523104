import os
from pathlib import Path

from playwright.sync_api import expect

from tests.factories import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()


def screenshot(page, name: str) -> None:
    """The whole page as docs/screenshots/<name>.png, which the README shows; only with
    GERAOS_SCREENSHOTS=1, so an ordinary test run leaves the tree as it was."""
    if os.environ.get("GERAOS_SCREENSHOTS") == "1":
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
