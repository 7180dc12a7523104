"""What an agent grant may allow. Memory scopes name a memory scope code."""

import re

FIXED_SCOPES = {
    "dispatch:create": "Dispatch actions (book, buy) for me",
    "dispatch:read": "See my dispatches and their status",
    "receipts:read": "Read my receipts",
    "disputes:create": "Dispute a receipt for me",
}
MEMORY_SCOPE = re.compile(r"^memory:(read|write):[a-z][a-z0-9_]{0,39}$")


def is_valid_scope(scope: str) -> bool:
    return scope in FIXED_SCOPES or bool(MEMORY_SCOPE.match(scope))


def invalid_scopes(scopes: list[str]) -> list[str]:
    return [scope for scope in scopes if not is_valid_scope(scope)]
