"""`{{ order.status|badge:order.statuses }}`: a status as its badge on a user page, the
same label and colour the admin shows."""

from django import template
from django.utils.safestring import SafeString

from apps.core.status import StatusVocabulary

register = template.Library()


@register.filter
def badge(value: str, vocabulary: StatusVocabulary) -> SafeString:
    return vocabulary.badge(value)
