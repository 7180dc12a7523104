"""`make demo`'s story, as an agent over HTTP against a live server with the demo data."""

import importlib.util
from pathlib import Path

import pytest
from django.core.management import call_command

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "demo_agent.py"


def load_demo_agent():
    spec = importlib.util.spec_from_file_location("demo_agent", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db(transaction=True)
def test_the_demo_books_the_plumber_and_verifies_the_receipt_offline(live_server, capsys):
    call_command("seed_demo")
    demo_agent = load_demo_agent()

    outcome = demo_agent.story(demo_agent.Api(live_server.url))

    printed = capsys.readouterr().out
    assert outcome == 0, printed
    assert "provider Lagos Plumber A" in printed
    assert "-> completed" in printed
    assert "valid: receipt" in printed
