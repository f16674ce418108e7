import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalsite.settings")
application = get_wsgi_application()

# Import the URLconf, and through it every view, while the server starts rather than in the
# first request each worker serves: otherwise the first voters of a hall wait for it. With
# gunicorn's --preload the workers are forked with all of it already imported.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018
