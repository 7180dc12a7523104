import os

from django.core.asgi import get_asgi_application

from apps.core.checks import refuse_to_serve_unless_serving_checks_pass

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geraos.settings")

application = get_asgi_application()
refuse_to_serve_unless_serving_checks_pass()  # sandbox rails in production, for one

from apps.mcp_server.asgi import with_mcp  # noqa: E402 - its tools import models: set up first

application = with_mcp(application)  # the MCP server at /mcp, beside Django
