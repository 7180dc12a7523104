"""JSON GeraOS can store and send back as it came: finite numbers only (NaN, Infinity and
1e400 could never be rendered again) and nesting Python can follow. Used for API bodies,
MCP tool arguments and JSON typed into pages."""

import json
import math

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def loads(text: str):
    """The value `text` holds; ValueError saying why not."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        # A lone surrogate ("\ud800") parses, but no UTF-8 response could carry it.
        json.dumps(value, ensure_ascii=False).encode()
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(exc.msg) from exc
    except UnicodeEncodeError as exc:
        raise ValueError("not valid Unicode (a lone surrogate)") from exc
    return value


def checked(value):
    """`value`, already parsed by someone else (the MCP SDK parses tool arguments), held
    to the rules `loads` holds text to; ValueError saying why not."""
    try:
        return loads(json.dumps(value))
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON can carry")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large a number")
    return number


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return loads(stream.read().decode(encoding))
        except (ValueError, UnicodeDecodeError) as exc:  # int-digit limit raises ValueError too
            raise ParseError(f"JSON parse error - {exc}") from exc
