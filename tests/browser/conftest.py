import os
import shutil

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Debian's chromium, quiet on a closed network (no background calls home).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API keeps an event loop on the test thread; the test's own ORM
    # calls are still synchronous, so Django's async-safety guard does not apply.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A browser tab on the live server; the test fails if the Content-Security-Policy
    refused anything the page tried (chromium says so on the console)."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    refused: list[str] = []

    def record_refusal(message) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", record_refusal)
    yield page
    context.close()
    assert not refused, f"The Content-Security-Policy refused: {refused}"
