import re
import uuid

from django.conf import settings

# A request id a proxy in front of us set, if it looks like one; otherwise we make one.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestIdMiddleware:
    """Gives every request an id (`request.request_id`, echoed as X-Request-ID) that the
    audit log records, so an operator action can be found in the access logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Only our own proxy's id is taken: a client's own could pose as another request's.
        offered = request.headers.get("X-Request-ID", "") if settings.BEHIND_TLS_PROXY else ""
        request.request_id = offered if _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response
