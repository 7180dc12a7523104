"""Keyrings from the environment: a mistake in one is refused, never quietly used."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.core import sealing


def test_a_key_id_named_twice_is_refused_not_silently_replaced():
    first, second = sealing.generate_key_entry("k1"), sealing.generate_key_entry("k2")
    reused = f"k1:{second.partition(':')[2]}"  # a new key pasted under an old key's id

    with pytest.raises(ImproperlyConfigured, match="k1 twice"):
        sealing._parse_keyring("GERAOS_SEALING_KEYS", f"{first},{second},{reused}")


def test_a_key_that_is_not_base64_is_refused_naming_its_setting():
    key = sealing.generate_key_entry("k1").partition(":")[2]

    for broken in (key[:-2], key[:20] + "!" + key[21:]):  # cut short, mistyped
        with pytest.raises(ImproperlyConfigured, match="GERAOS_LOOKUP_KEYS key k1 is not base64"):
            sealing._parse_keyring("GERAOS_LOOKUP_KEYS", f"k1:{broken}")
