from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from apps.catalog import selectors as catalog_selectors


@require_GET
def agent_card(request: HttpRequest) -> JsonResponse:
    """The A2A agent card: what GeraOS can do, for standard agent clients to discover."""
    base = settings.GERAOS_PUBLIC_URL
    skills = [
        {
            "id": skill.capability,
            "name": skill.title,
            "description": skill.description,
            "tags": [skill.product.code, *skill.capability.split("."), *skill.synonyms],
            "examples": skill.examples,
            "inputModes": ["application/json", "text/plain"],
            "outputModes": ["application/json"],
        }
        for skill in catalog_selectors.skill_list_published()
    ]
    card = {
        "protocolVersion": "0.3.0",
        "name": "GeraOS",
        "description": "Books, buys and pays for things for a user, with a signed receipt.",
        "url": f"{base}/api/v1/",
        "preferredTransport": "HTTP+JSON",
        "version": "1.0.0",
        "provider": {"organization": "Gera Systems", "url": base},
        "capabilities": {"streaming": False, "pushNotifications": True},
        "securitySchemes": {"agentToken": {"type": "http", "scheme": "bearer"}},
        "security": [{"agentToken": []}],
        "defaultInputModes": ["application/json", "text/plain"],
        "defaultOutputModes": ["application/json"],
        "skills": skills,
    }
    response = JsonResponse(card)
    response["Cache-Control"] = "public, max-age=300"
    return response
