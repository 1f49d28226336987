"""ASGI entry of `legion web`; in lite mode it also serves the LLM proxy under /v1/."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "legion_site.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from legion_site.body_limit import BodyLimit  # noqa: E402
from legion_site.key_first import KeyFirst  # noqa: E402
from proxy.urls import proxy_urlpatterns  # noqa: E402


def http_application(*, lite: bool) -> URLRouter:
    """Django's views, behind the proxy's routes in lite mode: their catch-all answers every /v1/... path, so
    Django's HTML 404 is never reached there. Full mode runs the proxy as its own process (`legion proxy`) so it
    scales apart from the web."""
    routes = [*proxy_urlpatterns] if lite else []
    # The proxy has its own limits; Django's views get bodies bounded in size, and read only once the key is good.
    django_app = BodyLimit(KeyFirst(django_asgi_app), limit=settings.CONFIG["web.max_body_bytes"])
    return URLRouter([*routes, re_path(r"", django_app)])  # type: ignore[arg-type]  # stubs only know views; Channels routes ASGI apps


application = ProtocolTypeRouter({"http": http_application(lite=settings.LEGION_MODE == "lite")})
