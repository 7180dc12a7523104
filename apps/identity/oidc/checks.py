"""Sign in with Gera signs ID tokens with GERAOS_OIDC_PRIVATE_KEY: a deploy check, run by
`check --deploy` and by the web entry points before they serve (apps.core.checks.SERVING),
refuses a key, signing or published, that is not an unencrypted RSA private key in PEM.
Settings refuse a variable that is not PEM blocks, and a GERAOS_OIDC_PRIVATE_KEY holding
other than one, so the first key is the signing key and the others the published ones."""

from allauth.core.internal import jwkkit
from cryptography.exceptions import UnsupportedAlgorithm
from django.conf import settings
from django.core import checks

from apps.core.checks import SERVING


@checks.register(checks.Tags.security, SERVING, deploy=True)
def oidc_keys_load(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    keys = settings.IDP_OIDC_PRIVATE_KEYS
    if not keys:
        return [_error("GERAOS_OIDC_PRIVATE_KEY holds no PEM private key.")]
    problems = []
    for number, key in enumerate(keys):
        try:
            jwkkit.load_pem(key["pem"])
        except (ValueError, TypeError, UnsupportedAlgorithm):  # TypeError: encrypted
            name = "GERAOS_OIDC_PRIVATE_KEY" if number == 0 else "GERAOS_OIDC_PUBLISHED_KEYS"
            problems.append(_error(f"A key in {name} is not an unencrypted RSA private key."))
    return problems


def _error(message: str) -> checks.Error:
    return checks.Error(
        message,
        hint="Make one with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048` "
        '(README "Sign in with Gera").',
        id="identity.E001",
    )
