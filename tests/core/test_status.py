"""The status machinery in core: badges wear one stylesheet's colours, each readable (WCAG
AA), and a vocabulary cannot leave a status without a tone."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.template import Context, Template

from apps.core.status import StatusVocabulary, Tone, badge

BADGE_RULE = re.compile(
    r"\.badge-(?P<tone>\w+) \{ color: (?P<text>#[0-9a-f]{6}); "
    r"background: (?P<back>#[0-9a-f]{6}); \}"
)
WCAG_AA = 4.5


class Light(models.TextChoices):
    ON = "on", "Lit"
    OFF = "off", "Dark"


def badge_colours() -> dict[str, tuple[str, str]]:
    css = (Path(settings.BASE_DIR) / "static/css/badges.css").read_text()
    return {rule["tone"]: (rule["text"], rule["back"]) for rule in BADGE_RULE.finditer(css)}


def relative_luminance(colour: str) -> float:
    """WCAG 2.x: the sRGB channels linearised, weighted by how bright the eye finds each."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    red, green, blue = (
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    )
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    darker, lighter = sorted([relative_luminance(first), relative_luminance(second)])
    return (lighter + 0.05) / (darker + 0.05)


def test_the_contrast_ratio_is_computed_as_wcag_defines_it():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_every_tone_has_a_badge_colour_and_nothing_else_does():
    assert set(badge_colours()) == set(Tone)


@pytest.mark.parametrize("tone", list(Tone))
def test_every_badges_text_is_readable_on_its_background(tone):
    text, background = badge_colours()[tone]

    assert contrast_ratio(text, background) >= WCAG_AA


def test_a_vocabulary_refuses_a_status_without_a_tone():
    with pytest.raises(ImproperlyConfigured, match=r"Light has no tone for \['off'\]"):
        StatusVocabulary(Light, {Light.ON: Tone.SUCCESS})


def test_a_badge_shows_the_label_in_its_tone():
    lights = StatusVocabulary(Light, {Light.ON: Tone.SUCCESS, Light.OFF: Tone.NEUTRAL})

    assert lights.badge("off") == '<span class="badge badge-neutral">Dark</span>'


def test_a_badges_label_is_escaped():
    assert badge("<b>", Tone.INFO) == '<span class="badge badge-info">&lt;b&gt;</span>'


def test_pages_show_a_status_as_its_badge_through_the_template_filter():
    lights = StatusVocabulary(Light, {Light.ON: Tone.SUCCESS, Light.OFF: Tone.NEUTRAL})
    template = Template("{% load badges %}{{ status|badge:lights }}")

    shown = template.render(Context({"status": "on", "lights": lights}))

    assert shown == '<span class="badge badge-success">Lit</span>'


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/", "/me/"], ids=["admin", "user-page"])
def test_the_admin_and_the_user_pages_load_the_one_badge_stylesheet(operator_client, path):
    page = operator_client.get(path).content.decode()

    assert 'href="/static/css/badges.css"' in page
