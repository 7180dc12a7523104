"""allauth's account adapter, where GeraOS's sign-in rules differ from allauth's."""

import ipaddress

from allauth.account.adapter import DefaultAccountAdapter

# Addresses inside one IPv6 /64 belong to one subscriber, as allauth's own limits assume.
IPV6_PREFIX = 64


class AccountAdapter(DefaultAccountAdapter):
    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """Failed sign-ins count per account *and* client address (ACCOUNT_RATE_LIMITS'
        `login_failed` `key`). Per account alone, anyone could lock a person out by
        guessing wrong five times; per address, brute force from one place still stops,
        and the per-address limit caps guessing across accounts."""
        account = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{account}:{self.client_network(request)}"

    def client_network(self, request) -> str:
        """Where a request comes from, as the limits count it: the client's address (the
        one the TLS proxy saw), or its /64 for IPv6."""
        address = ipaddress.ip_address(self.get_client_ip(request))
        if address.version == 6:
            return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
        return str(address)
