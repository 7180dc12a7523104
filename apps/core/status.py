"""One vocabulary for every status a person reads, in the admin and on the user pages.

A status value's label is its TextChoices label; its tone (which badge colour it wears) is
declared once beside those choices, in a StatusVocabulary. Tones only name colours: the
colours themselves are in static/css/badges.css, which the admin and the pages both load.
"""

from collections.abc import Mapping
from enum import StrEnum

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.html import format_html
from django.utils.safestring import SafeString


class Tone(StrEnum):
    SUCCESS = "success"  # done as the person wanted
    WARNING = "warning"  # waits for someone's attention
    DANGER = "danger"  # failed, refused or stopped
    INFO = "info"  # under way: nothing to do but wait
    NEUTRAL = "neutral"  # ended or set aside, nothing wrong


def badge(label: str, tone: Tone) -> SafeString:
    return format_html('<span class="badge badge-{}">{}</span>', tone, label)


class StatusVocabulary:
    """The labels and tones of one set of status choices; every value has both."""

    def __init__(self, choices: type[models.TextChoices], tones: Mapping[str, Tone]) -> None:
        untoned = sorted(set(choices.values) - set(tones))
        if untoned:
            raise ImproperlyConfigured(f"{choices.__qualname__} has no tone for {untoned}")
        self.choices = choices
        self.tones = dict(tones)

    def badge(self, value: str) -> SafeString:
        """A value outside the choices (a row older than them, say) shows as it is."""
        if value not in self.tones:
            return badge(value, Tone.NEUTRAL)
        return badge(self.choices(value).label, self.tones[value])
