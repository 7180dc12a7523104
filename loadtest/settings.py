"""The production settings, for the load test's throw-away deployment: one URL more (the
yardstick endpoint, loadtest.urls). Everything else, DEBUG off and the secrets included,
comes from the environment `loadtest.run` gives every process."""

from geraos.settings import *  # noqa: F403

ROOT_URLCONF = "loadtest.urls"
