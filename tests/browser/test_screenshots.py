"""Browser tests save screenshots for the README only when asked to."""

from tests.browser import helpers


class Page:
    def __init__(self):
        self.saved = []

    def screenshot(self, *, path, full_page):
        self.saved.append(path)


def test_a_screenshot_is_saved_only_with_geraos_screenshots_set(monkeypatch, tmp_path):
    page = Page()
    monkeypatch.setattr(helpers, "SCREENSHOTS", tmp_path)

    monkeypatch.delenv("GERAOS_SCREENSHOTS", raising=False)
    helpers.screenshot(page, "orders")
    monkeypatch.setenv("GERAOS_SCREENSHOTS", "1")
    helpers.screenshot(page, "orders")

    assert page.saved == [tmp_path / "orders.png"]
