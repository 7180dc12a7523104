"""The tools' input JSON Schemas (2020-12), written for a model to fill: each field says
what it is and gives an example. The API's request serializers stay the rule: a call the
schema lets through may still be refused by them, with the API's `validation_error`.
"""

from apps.core.api.fields import AMOUNT_PATTERN
from apps.core.idempotency import KEY_MAX_LENGTH, KEY_PATTERN
from apps.memory.models import MemoryItem
from apps.trust.models import Dispute

UUID = {"type": "string", "format": "uuid"}
SLUG = {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"}

PLACE = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "maxLength": 80, "description": "e.g. Lagos"},
        "country": {
            "type": "string",
            "maxLength": 2,
            "description": "ISO 3166-1 alpha-2 code, e.g. NG; may be left out when the "
            "city is unambiguous.",
        },
    },
    "required": ["city"],
    "additionalProperties": False,
}

INTENT = {
    "type": "object",
    "description": "A structured intent: what resolve_intent returned as `intent`, corrected "
    "where it read the text wrong.",
    "properties": {
        "capability": {
            "type": "string",
            "maxLength": 80,
            "description": "A skill's capability from find_skills, e.g. home.plumbing.",
        },
        "location": PLACE,
        "window": {
            "type": ["object", "null"],
            "description": "When it should happen, in ISO 8601 with a UTC offset.",
            "properties": {
                "start": {"type": "string", "format": "date-time"},
                "end": {"type": "string", "format": "date-time"},
            },
            "required": ["start", "end"],
            "additionalProperties": False,
        },
        "max_price": {
            "type": ["object", "null"],
            "description": 'The most the user will pay, e.g. {"amount": "50.00", '
            '"currency": "GBP"}.',
            "properties": {
                "amount": {"type": "string", "pattern": AMOUNT_PATTERN},
                "currency": {
                    "type": "string",
                    "pattern": "^[A-Z]{3}$",
                    "description": "ISO 4217 code",
                },
            },
            "required": ["amount", "currency"],
            "additionalProperties": False,
        },
    },
    # Open: the intent resolve_intent returns carries the parser's `notes`, sent back as is.
    "required": ["capability", "location"],
}

TEXT = {
    "type": "string",
    "maxLength": 500,
    "description": "The user's request in their own words, e.g. \"book a plumber in Lagos "
    'under £50 tomorrow morning".',
}

DETAILS = {
    "type": "object",
    "description": "What the skill needs to know, filled in by the skill's `input_schema` "
    '(from find_skills or resolve_intent), e.g. {"problem": "The kitchen tap is leaking"}.',
}

IDEMPOTENCY_KEY = {
    "type": "string",
    "minLength": 1,
    "maxLength": KEY_MAX_LENGTH,
    "pattern": KEY_PATTERN,
    "description": "A key you make up once per intended operation (visible ASCII, no "
    "spaces), e.g. a UUID. Calling again with the same key and arguments returns the first "
    "result instead of doing it twice; reuse it only to retry.",
}


def _object(properties: dict, required: list[str]) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


FIND_SKILLS = _object(
    {
        "capability": {
            "type": "string",
            "maxLength": 80,
            "description": "A capability or its start, e.g. home.plumbing.",
        },
        "country": {"type": "string", "maxLength": 2, "description": "e.g. NG"},
        "city": {"type": "string", "maxLength": 80, "description": "e.g. Lagos"},
    },
    [],
)

RESOLVE_INTENT = _object({"text": TEXT, "intent": INTENT}, [])

DISPATCH = _object(
    {
        "text": TEXT,
        "intent": INTENT,
        "details": DETAILS,
        "payer_account": {
            "type": "string",
            "maxLength": 100,
            "description": "The payer's phone number (M-Pesa) or VPA (UPI), when the rail "
            "of the quote needs one.",
        },
        "idempotency_key": IDEMPOTENCY_KEY,
    },
    ["idempotency_key"],
)

GET_DISPATCH = _object(
    {"dispatch_id": {**UUID, "description": "The `id` dispatch returned."}}, ["dispatch_id"]
)

GET_RECEIPT = _object(
    {"receipt_id": {**UUID, "description": "The dispatch's `receipt.id`."}}, ["receipt_id"]
)

VERIFY_RECEIPT = _object(
    {"jws": {"type": "string", "description": "A receipt's compact JWS (its `jws`)."}}, ["jws"]
)

PRODUCT = {**SLUG, "description": "The product you act for, e.g. gerahome."}
MEMORY_SCOPE = {**SLUG, "description": "A memory scope, e.g. preferences."}
PURPOSE = {
    "type": "string",
    "maxLength": 200,
    "description": "Why, in a few words; the user sees it in their memory access log.",
}

READ_MEMORY = _object(
    {"product": PRODUCT, "scope": MEMORY_SCOPE, "purpose": PURPOSE}, ["product", "scope"]
)

WRITE_MEMORY = _object(
    {
        "product": PRODUCT,
        "scope": MEMORY_SCOPE,
        "kind": {"type": "string", "enum": list(MemoryItem.Kind.values)},
        "key": {"type": "string", "maxLength": 120, "description": "e.g. preferred_plumber"},
        "value": {"description": "Any JSON value."},
        "expires_at": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "When to forget it; null keeps it.",
        },
        "purpose": PURPOSE,
    },
    ["product", "scope", "kind", "key", "value"],
)

OPEN_DISPUTE = _object(
    {
        "receipt_id": {**UUID, "description": "The receipt of the charge disputed."},
        "reason": {"type": "string", "enum": list(Dispute.Reason.values)},
        "evidence": {
            "type": "string",
            "maxLength": 10000,
            "description": "What happened, in the user's words.",
        },
        "idempotency_key": IDEMPOTENCY_KEY,
    },
    ["receipt_id", "reason", "idempotency_key"],
)
