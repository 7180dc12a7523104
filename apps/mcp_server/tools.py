"""What each tool does: validate with the API's request serializer, call the service or
selector the API view calls, render with the API's response serializer. Each returns
(status, body) with the status the API would answer; a refusal raises, as in the API.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404
from rest_framework import serializers

from apps.catalog import selectors as catalog_selectors
from apps.core.api.serializers import BodySerializer
from apps.core.idempotency import Outcome, run_once, service_key
from apps.dispatch import resolver
from apps.dispatch import selectors as dispatch_selectors
from apps.dispatch import services as dispatch_services
from apps.dispatch.api.serializers import (
    DispatchCreateSerializer,
    DispatchOrderSerializer,
    IntentOrTextSerializer,
    ResolutionSerializer,
    SkillQuerySerializer,
    SkillSerializer,
)
from apps.mcp_server.auth import Caller
from apps.mcp_server.errors import error_body
from apps.memory import services as memory_services
from apps.memory.api.serializers import (
    MemoryItemSerializer,
    MemoryQuerySerializer,
    MemoryReadSerializer,
    MemoryWriteSerializer,
)
from apps.memory.api.views import require_agent
from apps.trust import selectors as trust_selectors
from apps.trust import services as trust_services
from apps.trust.api.serializers import DisputeOpenSerializer, DisputeSerializer
from apps.trust.api.views import receipt_document
from apps.trust.models import Dispute, Receipt

Result = tuple[int, Any]
OK, CREATED, ACCEPTED = 200, 201, 202


class DispatchIdSerializer(BodySerializer):
    dispatch_id = serializers.UUIDField()


class ReceiptIdSerializer(BodySerializer):
    receipt_id = serializers.UUIDField()


class JwsSerializer(BodySerializer):
    jws = serializers.CharField()


def _valid(serializer_class, arguments: dict) -> dict:
    serializer = serializer_class(data=arguments)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _once(caller: Caller, tool: str, arguments: dict, work: Callable[[], Result]) -> Result:
    """The API's Idempotency-Key rule, with the key an argument: a retry with the same key
    and arguments gets the first result (a refusal included), other arguments a 422."""
    arguments = dict(arguments)
    key = arguments.pop("idempotency_key", "")

    def run() -> Result:
        try:
            return work(arguments, key)
        except Exception as exc:  # noqa: BLE001 - stored as the API would answer it
            return error_body(exc)

    outcome: Outcome = run_once(caller, path=f"mcp:{tool}", key=key, body=arguments, run=run)
    return outcome.status, outcome.body


def find_skills(caller: Caller, arguments: dict) -> Result:
    query = _valid(SkillQuerySerializer, arguments)
    skills = catalog_selectors.skill_list_published(**query)
    return OK, {"skills": SkillSerializer(skills, many=True, context={"routing": {}}).data}


def resolve_intent(caller: Caller, arguments: dict) -> Result:
    body = IntentOrTextSerializer(data=arguments)
    body.is_valid(raise_exception=True)
    found = resolver.resolve_intent_or_text(user=caller.user, **body.resolve_kwargs())
    return OK, ResolutionSerializer(found).data


def dispatch(caller: Caller, arguments: dict) -> Result:
    def work(arguments: dict, key: str) -> Result:
        # No callback URL: its secret is shown once, and an MCP client polls get_dispatch.
        body = DispatchCreateSerializer(data={**arguments, "callback_url": ""})
        body.is_valid(raise_exception=True)
        order, _ = dispatch_services.dispatch_create(
            user=caller.user,
            grant=caller.auth,
            **body.resolve_kwargs(),
            details=body.validated_data["details"],
            payer_account=body.validated_data["payer_account"],
            idempotency_key=service_key(caller, key=key, via="mcp"),
        )
        return ACCEPTED, _order(caller, order.pk)

    return _once(caller, "dispatch", arguments, work)


def get_dispatch(caller: Caller, arguments: dict) -> Result:
    return OK, _order(caller, _valid(DispatchIdSerializer, arguments)["dispatch_id"])


def _order(caller: Caller, order_id) -> dict:
    """An agent sees the dispatches made under its own grant, as over the API."""
    order = dispatch_selectors.dispatch_get_for_user(
        user=caller.user, order_id=order_id, grant_id=caller.auth.pk
    )
    if order is None:
        raise Http404
    return DispatchOrderSerializer(order).data


def get_receipt(caller: Caller, arguments: dict) -> Result:
    """The receipt, and its bundle once the log has integrated it (None while sequenced)."""
    receipt = _receipt(caller, _valid(ReceiptIdSerializer, arguments)["receipt_id"])
    document = receipt_document(receipt)
    bundle = None
    if document["log_status"] == "integrated":
        bundle = trust_selectors.receipt_bundle(receipt=receipt, origin=settings.GERAOS_LOG_ORIGIN)
    return OK, {**document, "bundle": bundle}


def _receipt(caller: Caller, receipt_id) -> Receipt:
    receipt = trust_selectors.receipt_get(
        user=caller.user, receipt_id=receipt_id, agent_grant_id=caller.auth.pk
    )
    if receipt is None:
        raise Http404
    return receipt


def verify_receipt(caller: Caller, arguments: dict) -> Result:
    token = _valid(JwsSerializer, arguments)["jws"]
    valid, reason, payload = trust_selectors.receipt_verify_online(token=token)
    return OK, {"valid": valid, "reason": reason, "receipt": payload}


def read_memory(caller: Caller, arguments: dict) -> Result:
    query = _valid(MemoryQuerySerializer, arguments)
    product, scope = query["product"], query["scope"]
    grant = require_agent(caller, f"memory:read:{scope.code}")
    items = memory_services.memory_read(
        user=caller.user,
        product=product,
        scope=scope,
        grant=grant,
        purpose=query.get("purpose", ""),
    )
    body = {"product": product.code, "scope": scope.code, "items": items}
    return OK, MemoryReadSerializer(body).data


def write_memory(caller: Caller, arguments: dict) -> Result:
    data = _valid(MemoryWriteSerializer, arguments)
    grant = require_agent(caller, f"memory:write:{data['scope'].code}")
    item = memory_services.memory_write(user=caller.user, grant=grant, **data)
    return CREATED, MemoryItemSerializer(item).data


def open_dispute(caller: Caller, arguments: dict) -> Result:
    def work(arguments: dict, key: str) -> Result:
        receipt_id = _valid(ReceiptIdSerializer, {"receipt_id": arguments.get("receipt_id")})
        receipt = _receipt(caller, receipt_id["receipt_id"])
        if receipt.user_id != caller.user.pk:
            raise Http404  # counterparties read receipts; only the buyer disputes
        body = _valid(DisputeOpenSerializer, arguments)
        dispute = trust_services.dispute_open(
            receipt=receipt, opened_by=Dispute.Party.BUYER, user=caller.user, **body
        )
        return CREATED, DisputeSerializer(dispute).data

    return _once(caller, "open_dispute", arguments, work)
