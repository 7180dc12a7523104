"""What an agent grant may allow, and what an OAuth client may ask for.

A grant's scopes are the fixed scopes and memory scopes (`memory:<read|write>:<scope
code>`). An OAuth client asks in scopes too: those, the sign-in scopes of OpenID Connect
(and `plan`), and `capability:<skill capability>`, which becomes the grant's allowed
capabilities rather than a scope.
"""

import re

FIXED_SCOPES = {
    "dispatch:create": "Dispatch actions (book, buy) for me",
    "dispatch:read": "See my dispatches and their status",
    "receipts:read": "Read my receipts",
    "disputes:create": "Dispute a receipt for me",
}
MEMORY_SCOPE = re.compile(r"^memory:(read|write):([a-z][a-z0-9_]{0,39})$")
SIGN_IN_SCOPES = {
    "openid": "Know who you are (your Gera account id)",
    "email": "See your email address",
    "profile": "See your name",
    "plan": "See your Gera plan and what it includes",
}
CAPABILITY_SCOPE = re.compile(r"^capability:([A-Za-z0-9_.-]{1,80})$")


def is_valid_scope(scope: str) -> bool:
    return scope in FIXED_SCOPES or bool(MEMORY_SCOPE.match(scope))


def invalid_scopes(scopes: list[str]) -> list[str]:
    return [scope for scope in scopes if not is_valid_scope(scope)]


def capability_of(scope: str) -> str | None:
    """The skill capability a `capability:` scope names, else None."""
    match = CAPABILITY_SCOPE.match(scope)
    return match.group(1) if match else None


def is_agent_scope(scope: str) -> bool:
    """Scopes whose approval makes an agent grant (rather than only signing in)."""
    return is_valid_scope(scope) or capability_of(scope) is not None


def is_client_scope(scope: str) -> bool:
    """What an operator may let an OAuth client ask for."""
    return scope in SIGN_IN_SCOPES or is_agent_scope(scope)


def describe(scope: str) -> str:
    """The scope in the words the consent page uses."""
    if scope in FIXED_SCOPES:
        return FIXED_SCOPES[scope]
    if scope in SIGN_IN_SCOPES:
        return SIGN_IN_SCOPES[scope]
    if match := MEMORY_SCOPE.match(scope):
        verb = "Read" if match.group(1) == "read" else "Write"
        return f"{verb} what your memory keeps under “{match.group(2)}”"
    return scope
