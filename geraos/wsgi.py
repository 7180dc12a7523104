import os

from django.core.wsgi import get_wsgi_application

from apps.core.checks import refuse_to_serve_unless_serving_checks_pass

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geraos.settings")

application = get_wsgi_application()
refuse_to_serve_unless_serving_checks_pass()  # sandbox rails in production, for one
