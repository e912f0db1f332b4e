import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hamseda.settings")
application = get_wsgi_application()

# Anonymous reads of /api/v1/ are answered for a few seconds from a cache in front of
# Django (hamseda/api/fastcache.py; HAMSEDA_API_CACHE, HAMSEDA_API_CACHE_SECONDS).
from hamseda.api.fastcache import wrap  # noqa: E402 - needs the settings set up above.

application = wrap(application)
