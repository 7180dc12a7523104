"""The offline verifier cannot be fooled: it verifies against keys the user pins (a JWKS
file or an https URL) and says plainly that it verified nothing otherwise; it takes a
receipt for a receipt only (its JWS typ) and a checkpoint for the receipt log's only."""

import datetime as dt
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.test import Client

from apps.core import audit
from apps.trust import jose, keys, merkle, selectors
from apps.trust.audit import audit_export
from tests.factories import UserFactory, make_quote, make_receipt

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
ISSUED = Path(__file__).parent / "issued"  # by GeraOS before the typ of receipts was checked


def verify(tmp_path, document: dict, *args: str, env: dict | None = None):
    """`python -m apps.trust.verify` as a third party runs it: no settings, no database."""
    document_file = tmp_path / "document.json"
    document_file.write_text(json.dumps(document))
    return subprocess.run(  # noqa: S603 - our verifier, our files
        [sys.executable, "-m", "apps.trust.verify", str(document_file), *args],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def published_keys(tmp_path) -> str:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(Client().get("/.well-known/jwks.json").json()))
    return str(jwks_file)


def bundle_of(receipt) -> dict:
    return selectors.receipt_bundle(receipt=receipt, origin="geraos.example/receipts")


def forged_bundle() -> dict:
    """A receipt, log and checkpoint made up by anyone, signed with their own key."""
    private, public = keys.new_keypair()
    kid = "gera-20261130-forged00"
    receipt = {"id": "forged", "kid": kid, "log_index": 0, "resolution": "completed"}
    receipt["amount"] = {"settled": {"amount": "9999.00", "currency": "GBP"}}
    token = jose.jws_sign(rfc8785.dumps(receipt), kid=kid, key=private, typ=jose.RECEIPT_TYPE)
    origin = "geraos.example/receipts"
    body = jose.checkpoint_body(origin, 1, merkle.leaf_hash(token.encode()))
    jwk = keys.jwk_for(kid=kid, public_key=public)
    return {
        "format": "geraos-receipt-bundle/1",
        "receipt": token,
        "inclusion_proof": {"log_index": 0, "tree_size": 1, "hashes": []},
        "log_origin": origin,
        "checkpoint": jose.checkpoint_sign(body, name=origin, key=private, public_key=public),
        "checkpoint_kid": kid,
        "jwk": jwk,
        "checkpoint_jwk": jwk,
    }


# --- pinned keys ------------------------------------------------------------------------


def test_a_bundle_signed_with_anyones_key_is_not_called_valid(tmp_path):
    checked = verify(tmp_path, forged_bundle())

    assert checked.returncode == 2
    assert "valid" not in checked.stdout
    assert "NOT VERIFIED: no pinned keys" in checked.stderr
    assert "--jwks" in checked.stderr
    assert "--trust-embedded-keys" in checked.stderr


def test_against_the_published_keys_a_forged_bundle_is_invalid(tmp_path, user):
    make_receipt(user)  # GeraOS has a key

    checked = verify(tmp_path, forged_bundle(), "--jwks", published_keys(tmp_path))

    assert checked.returncode == 1
    assert checked.stdout.strip() == "invalid: no published key 'gera-20261130-forged00'"


def test_trusting_the_embedded_keys_is_a_choice_that_is_spelled_out(tmp_path):
    checked = verify(tmp_path, forged_bundle(), "--trust-embedded-keys")

    assert checked.returncode == 0
    assert checked.stdout.startswith("valid against the keys the bundle carries: receipt forged")
    assert "anyone can make a bundle that passes" in checked.stderr


def test_a_genuine_bundle_is_valid_against_the_published_keys(tmp_path, user):
    receipt = make_receipt(user)

    checked = verify(tmp_path, bundle_of(receipt), "--jwks", published_keys(tmp_path))

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith(f"valid: receipt {receipt.pk} (completed, 22.50 GBP)")


def test_receipts_issued_before_typ_was_checked_still_verify(tmp_path):
    bundle = json.loads((ISSUED / "receipt-bundle.json").read_text())

    checked = verify(tmp_path, bundle, "--jwks", str(ISSUED / "jwks.json"))

    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.startswith("valid: receipt d9858189-1e46-4b7e-b3dc-838ac62c6699")


def test_a_bundle_issued_when_each_receipt_signed_its_own_checkpoint_still_verifies(tmp_path):
    """Issued by GeraOS at bf1ce26, when each receipt signed its own checkpoint; any change
    to the log must keep it verifying."""
    issued = ISSUED / "before-batched-integration"
    bundle = json.loads((issued / "receipt-bundle.json").read_text())

    checked = verify(tmp_path, bundle, "--jwks", str(issued / "jwks.json"))

    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.startswith("valid: receipt e25bfe04-29e1-48de-90f6-7f2bb897b8f5")
    assert "is entry 2 of geraos.example/receipts" in checked.stdout
    assert bundle["inclusion_proof"]["tree_size"] == 7


def test_an_audit_export_is_not_verified_without_pinned_keys(tmp_path, user):
    audit.record(action="catalog.skill_publish", obj=user)
    export = audit_export()

    unpinned = verify(tmp_path, export, "--audit")
    pinned = verify(tmp_path, export, "--audit", "--jwks", published_keys(tmp_path))

    assert (unpinned.returncode, unpinned.stdout) == (2, "")
    assert "NOT VERIFIED: no pinned keys" in unpinned.stderr
    assert pinned.returncode == 0, pinned.stdout


# --- the JWKS from an https URL -----------------------------------------------------------


KEY_USAGES = [
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
]


def certificate(
    subject: str, public_key, *, issuer: str, issuer_key, extensions
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(hours=1))
    )
    for extension in extensions:
        critical = isinstance(extension, x509.BasicConstraints | x509.KeyUsage)
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def key_usage(*allowed: str) -> x509.KeyUsage:
    return x509.KeyUsage(**{usage: usage in allowed for usage in KEY_USAGES})


def certificate_authority(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate it issued for 127.0.0.1: the CA's file, and the
    server's certificate and key files."""
    ca_key, server_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(2))
    ca = certificate(
        "GeraOS test CA",
        ca_key.public_key(),
        issuer="GeraOS test CA",
        issuer_key=ca_key,
        extensions=[
            x509.BasicConstraints(ca=True, path_length=0),
            key_usage("key_cert_sign", "crl_sign"),
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
        ],
    )
    server = certificate(
        "127.0.0.1",
        server_key.public_key(),
        issuer="GeraOS test CA",
        issuer_key=ca_key,
        extensions=[
            x509.BasicConstraints(ca=False, path_length=None),
            key_usage("digital_signature"),
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
        ],
    )
    files = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@pytest.fixture
def https_server(tmp_path):
    """A local https server (its CA in `ca_file`) answering `routes`: path -> (status,
    headers, body)."""
    ca_file, certificate, key = certificate_authority(tmp_path)
    routes: dict[str, tuple[int, dict, bytes]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status, headers, body = routes.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(
        url=f"https://127.0.0.1:{server.server_address[1]}", routes=routes, ca_file=str(ca_file)
    )
    server.shutdown()
    server.server_close()


def test_the_published_keys_are_fetched_from_an_https_url(tmp_path, user, https_server):
    receipt = make_receipt(user)
    https_server.routes["/.well-known/jwks.json"] = (200, {}, json.dumps(selectors.jwks()).encode())

    checked = verify(
        tmp_path,
        bundle_of(receipt),
        "--jwks",
        f"{https_server.url}/.well-known/jwks.json",
        env={"SSL_CERT_FILE": https_server.ca_file},  # the machine trusts the test CA
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith(f"valid: receipt {receipt.pk}")


def test_a_server_whose_certificate_does_not_verify_gives_no_keys(tmp_path, user, https_server):
    https_server.routes["/jwks.json"] = (200, {}, json.dumps(selectors.jwks()).encode())

    checked = verify(
        tmp_path, bundle_of(make_receipt(user)), "--jwks", f"{https_server.url}/jwks.json"
    )

    assert checked.returncode == 2
    assert "certificate verify failed" in checked.stderr


def test_keys_are_fetched_over_https_only(tmp_path, user):
    checked = verify(
        tmp_path, bundle_of(make_receipt(user)), "--jwks", "http://127.0.0.1:9/jwks.json"
    )

    assert checked.returncode == 2
    assert "--jwks takes a file or an https:// URL" in checked.stderr


def test_a_redirect_away_from_https_is_not_followed(tmp_path, user, https_server):
    https_server.routes["/jwks.json"] = (302, {"Location": "http://127.0.0.1:9/jwks.json"}, b"")

    checked = verify(
        tmp_path,
        bundle_of(make_receipt(user)),
        "--jwks",
        f"{https_server.url}/jwks.json",
        env={"SSL_CERT_FILE": https_server.ca_file},
    )

    assert checked.returncode == 2
    assert "redirected to http://127.0.0.1:9/jwks.json, which is not https" in checked.stderr


# --- one document type for another ---------------------------------------------------------


def test_a_quote_presented_as_a_receipt_is_invalid(tmp_path, user, catalog):
    bundle = bundle_of(make_receipt(user))
    bundle["receipt"] = make_quote(UserFactory(country="GB")).jws  # signed by the same key

    checked = verify(tmp_path, bundle, "--jwks", published_keys(tmp_path))

    assert checked.returncode == 1
    assert checked.stdout.strip() == (
        "invalid: not a receipt: it is a quote (typ 'geraos-quote+jws')"
    )


def test_an_audit_checkpoint_presented_as_the_logs_is_invalid(tmp_path, user):
    audit.record(action="catalog.skill_publish", obj=user)
    bundle = bundle_of(make_receipt(user))
    export = audit_export()
    bundle.update(
        checkpoint=export["checkpoint"],
        log_origin=export["origin"],
        inclusion_proof={**bundle["inclusion_proof"], "tree_size": 1},
    )

    checked = verify(tmp_path, bundle, "--jwks", published_keys(tmp_path))

    assert checked.returncode == 1
    assert (
        checked.stdout.strip() == "invalid: the checkpoint is an audit log's, not a receipt log's"
    )


def test_a_receipt_log_checkpoint_presented_as_an_audit_head_is_invalid(tmp_path, user):
    audit.record(action="catalog.skill_publish", obj=user)
    bundle = bundle_of(make_receipt(user))
    export = {**audit_export(), "origin": bundle["log_origin"], "checkpoint": bundle["checkpoint"]}

    checked = verify(tmp_path, export, "--audit", "--jwks", published_keys(tmp_path))

    assert checked.returncode == 1
    assert checked.stdout.strip() == "invalid: 'geraos.example/receipts' is not an audit log"
