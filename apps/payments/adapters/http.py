"""The HTTP transport of the country rails' adapters. Production sends real requests;
sandbox mode swaps in a simulator with the same interface, and nothing else changes."""

import json
from typing import Protocol
from urllib.error import HTTPError
from urllib.request import Request, urlopen

TIMEOUT_SECONDS = 15


class JsonTransport(Protocol):
    def request(
        self, method: str, url: str, *, headers: dict, body: dict | None
    ) -> tuple[int, dict]: ...


class UrllibJsonTransport:
    def request(
        self, method: str, url: str, *, headers: dict, body: dict | None
    ) -> tuple[int, dict]:
        if not url.startswith("https://"):
            raise ValueError("rails are reached over https only")
        data = json.dumps(body).encode() if body is not None else None
        request = Request(  # noqa: S310 - https checked above
            url,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **headers},
        )
        try:
            with urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - https
                return response.status, json.loads(response.read() or b"{}")
        except HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")
