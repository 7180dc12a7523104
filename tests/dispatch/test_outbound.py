"""In production, provider endpoints and agent callbacks never reach into the platform's
own network: https to public addresses only, checked on the URL and again on the socket
(a public-looking name may resolve, or re-resolve, to a private address)."""

import socket
import threading

import pytest

from apps.dispatch import outbound
from tests.dispatch.fake_provider import FakeProvider


@pytest.fixture
def production(settings):
    settings.GERAOS_OUTBOUND_PRIVATE_ALLOWED = False


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/cb",
        "http://agent.example/cb",
        "https://localhost/cb",
        "https://127.0.0.1/cb",
        "https://10.0.0.7/cb",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/cb",
        "https://[::ffff:192.168.1.1]/cb",
        "https://[64:ff9b::a00:7]/cb",  # NAT64 to 10.0.0.7
        "https://[64:ff9b:1::a00:7]/cb",  # local-use NAT64 (RFC 8215)
        "https://[2002:a00:7::1]/cb",  # 6to4 from 10.0.0.7
        "https:///no-host",
    ],
)
def test_production_refuses_urls_that_are_not_public_https(production, url):
    assert not outbound.is_allowed_url(url)


def test_production_accepts_public_https(production):
    assert outbound.is_allowed_url("https://agent.example/events")
    assert outbound.is_allowed_url("https://93.184.215.14/events")


def test_development_also_allows_plain_http_to_this_machine():
    assert outbound.is_allowed_url("http://127.0.0.1:8080/cb")
    assert outbound.is_allowed_url("http://localhost:8080/cb")
    assert not outbound.is_allowed_url("http://agent.example/cb")


def test_a_public_name_resolving_to_a_private_address_is_dropped_before_sending(
    production, monkeypatch
):
    real_getaddrinfo = socket.getaddrinfo

    def rebinding_dns(host, *args, **kwargs):
        return real_getaddrinfo("127.0.0.1" if host == "plumber.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    with FakeProvider(secret=b"s") as provider:
        port = provider.url.split(":")[2].split("/")[0]
        with pytest.raises(outbound.Refused) as refused:
            outbound.post(f"https://plumber.example:{port}/bookings", headers={}, body=b"{}")

    assert refused.value.code == "non_public_address"
    assert provider.requests == []


def test_an_agent_cannot_point_its_callback_into_the_network(production, agent):
    response = agent.dispatch(callback_url="https://169.254.169.254/latest/meta-data/")

    assert response.status_code == 400
    assert "callback_url" in response.json()["error"]["fields"]


def test_a_garbled_http_answer_is_worth_retrying():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def answer_garbage():
            connection, _ = server.accept()
            connection.recv(65536)
            connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            connection.close()

        threading.Thread(target=answer_garbage, daemon=True).start()
        with pytest.raises(outbound.Unreachable):
            outbound.post(f"http://127.0.0.1:{port}/", headers={}, body=b"{}")
