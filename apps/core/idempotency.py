"""Idempotency-Key for every money-moving POST in the API.

    class PaymentCreate(APIView):
        @idempotent
        def post(self, request): ...

A key is 1 to 255 visible ASCII characters (else 400 `idempotency_key_invalid`; without
one, 400 `idempotency_key_required`). It is scoped to the caller (user and the grant or
session in use) and the path. The
first request claims the key; a replay with the same body gets the stored response with
`Idempotent-Replayed: true`; the same key with another body is a 422
`idempotency_key_reuse`; a request arriving while the first is in flight waits briefly for
its outcome, then answers 409 `idempotency_in_progress`. 5xx outcomes are not stored, so
the client may retry. Stored responses are sealed, as some carry a secret shown only once.
Records are kept at least KEEP_FOR (purged by a beat task). A caller that is no DRF
view (the MCP server's tools, whose key is an argument) keeps the same rule by `run_once`.
"""

import datetime as dt
import functools
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import rfc8785
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.permissions import acting_grant_id
from apps.core.errors import ApplicationError, ConflictError
from apps.core.models import IdempotencyRecord
from apps.core.sealing import seal, unseal

HEADER = "Idempotency-Key"
# Visible ASCII only, 1 to 255 characters: nothing a proxy or a log could fold, trim or
# re-encode into another key. The OpenAPI document says the same.
KEY_MAX_LENGTH = 255
KEY_PATTERN = "^[!-~]+$"
# The header as views declare it to drf-spectacular: @extend_schema(parameters=[...]).
IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=HEADER,
    location=OpenApiParameter.HEADER,
    required=True,
    type={
        "type": "string",
        "minLength": 1,
        "maxLength": KEY_MAX_LENGTH,
        "pattern": KEY_PATTERN,
    },
    description="Unique per intended operation (visible ASCII, no spaces); a retry with the "
    "same key and body returns the first response (with Idempotent-Replayed: true).",
)

KEEP_FOR = dt.timedelta(hours=24)
WAIT_FOR_IN_FLIGHT_SECONDS = 10.0
ABANDONED_AFTER = dt.timedelta(minutes=5)
POLL_SECONDS = 0.05


class IdempotencyKeyRequired(ApplicationError):
    code = "idempotency_key_required"


class IdempotencyKeyInvalid(ApplicationError):
    code = "idempotency_key_invalid"


class IdempotencyKeyReuse(ApplicationError):
    code = "idempotency_key_reuse"
    status = 422


def idempotent(view_method):
    @functools.wraps(view_method)
    def wrapper(view, request: Request, *args, **kwargs) -> Response:
        key = _key(request)
        caller = _caller(request)
        digest = _body_digest(request.data)
        record = _claim(caller=caller, path=request.path, key=key, digest=digest)
        if record is not None:
            status, body = _stored(record, digest)
            return Response(body, status=status, headers={"Idempotent-Replayed": "true"})
        try:
            response = view_method(view, request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - render it exactly as DRF would, then decide
            response = view.handle_exception(exc)
        _settle(
            caller=caller,
            path=request.path,
            key=key,
            status=response.status_code,
            body=response.data,
        )
        return response

    return wrapper


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    replayed: bool


def run_once(request, *, path: str, key: str, body, run: Callable[[], tuple[int, Any]]) -> Outcome:
    """The decorator's rule for a caller that is no DRF view (the MCP server's tools):
    `path` names the operation, `key` is the client's, `run` does the work and returns
    (status, body), a refusal already rendered as the API renders it. `request` is read for
    its `user` and `auth`, as the decorator reads them."""
    key = _checked(key, where="idempotency key")
    caller = _caller(request)
    digest = _body_digest(body)
    record = _claim(caller=caller, path=path, key=key, digest=digest)
    if record is not None:
        return Outcome(*_stored(record, digest), replayed=True)
    status, result = run()
    _settle(caller=caller, path=path, key=key, status=status, body=result)
    return Outcome(status, result, replayed=False)


def _key(request: Request) -> str:
    return _checked(request.headers.get(HEADER, ""), where=f"{HEADER} header")


def _checked(key, *, where: str) -> str:
    """`key` stripped, or refused in messages that read "an <where>"."""
    if not isinstance(key, str):
        raise IdempotencyKeyInvalid(f"An {where} is a string.")
    key = key.strip()
    if not key:
        raise IdempotencyKeyRequired(f"Send an {where}.")
    if len(key) > KEY_MAX_LENGTH or not re.fullmatch(KEY_PATTERN, key):
        raise IdempotencyKeyInvalid(
            f"An {where} is 1 to {KEY_MAX_LENGTH} visible ASCII characters, without spaces."
        )
    return key


def service_key(request: Request, *, key: str | None = None, via: str = "api") -> str:
    """The request's key as the service that makes the record stores it: namespaced like
    the claim, so two agents of one user choosing the same key never share a payment or
    an order (nor an API call and an MCP tool call, `via` "mcp")."""
    key = request.headers[HEADER] if key is None else key
    return f"{via}:{_caller(request)}:{key.strip()}"


def _body_digest(data) -> str:
    try:
        return hashlib.sha256(rfc8785.dumps(data)).hexdigest()
    except rfc8785.CanonicalizationError as exc:
        # RFC 8785 (I-JSON) numbers are IEEE doubles; anything else cannot be compared.
        raise ApplicationError(
            f"The body cannot be canonicalized: {exc}.", code="invalid_body"
        ) from exc


def _caller(request: Request) -> str:
    via = acting_grant_id(request) or "session"
    return f"user:{request.user.pk}/{via}"


def _claim(*, caller: str, path: str, key: str, digest: str) -> IdempotencyRecord | None:
    """Claim the key for this request (None), or return the record of an earlier one,
    waiting a little for an earlier request still in flight."""
    deadline = time.monotonic() + WAIT_FOR_IN_FLIGHT_SECONDS
    while True:
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    caller=caller, path=path, key=key, request_hash=digest
                )
            return None
        except IntegrityError:
            record = IdempotencyRecord.objects.filter(caller=caller, path=path, key=key).first()
        if record is None:
            continue  # the earlier request failed with a 5xx and gave the key back
        if _take_over_abandoned(record, digest):
            return None
        if record.status == IdempotencyRecord.Status.COMPLETED or time.monotonic() > deadline:
            return record
        time.sleep(POLL_SECONDS)


def _take_over_abandoned(record: IdempotencyRecord, digest: str) -> bool:
    """A claim still in progress long after any request would have finished belongs to a
    process that died mid-request: the retry runs the view again (the services below keep
    their own keys, so what the first run made is found, not made twice). One retry wins
    the conditional update; the others wait for its outcome."""
    if record.status != IdempotencyRecord.Status.IN_PROGRESS or record.request_hash != digest:
        return False
    if record.created_at > timezone.now() - ABANDONED_AFTER:
        return False
    return bool(
        IdempotencyRecord.objects.filter(
            pk=record.pk, status=record.status, created_at=record.created_at
        ).update(created_at=timezone.now())
    )


def _stored(record: IdempotencyRecord, digest: str) -> tuple[int, Any]:
    """The first request's outcome, for a replay with the same body."""
    if record.request_hash != digest:
        raise IdempotencyKeyReuse(
            "This Idempotency-Key was used with a different request body.",
        )
    if record.status != IdempotencyRecord.Status.COMPLETED:
        raise ConflictError(
            "A request with this Idempotency-Key is still being processed.",
            code="idempotency_in_progress",
        )
    body = open_response_body(
        record.response_body_sealed, caller=record.caller, path=record.path, key=record.key
    )
    return record.response_status, body


def _settle(*, caller: str, path: str, key: str, status: int, body) -> None:
    records = IdempotencyRecord.objects.filter(caller=caller, path=path, key=key)
    if status >= 500:
        records.delete()
        return
    records.update(
        status=IdempotencyRecord.Status.COMPLETED,
        response_status=status,
        response_body_sealed=seal_response_body(body, caller=caller, path=path, key=key),
    )


def seal_response_body(data, *, caller: str, path: str, key: str) -> str:
    body = json.dumps(data, cls=DjangoJSONEncoder).encode()
    return seal(body, context=_sealing_context(caller, path, key))


def open_response_body(sealed: str, *, caller: str, path: str, key: str):
    return json.loads(unseal(sealed, context=_sealing_context(caller, path, key)))


def _sealing_context(caller: str, path: str, key: str) -> str:
    return "idempotency:" + json.dumps([caller, path, key])


def purge_expired_records() -> int:
    count, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - KEEP_FOR).delete()
    return count
