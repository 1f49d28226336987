"""ASGI entry of `legion web`; in lite mode it also serves the LLM proxy under /v1/."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "legion_site.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from proxy.routing import proxy_urlpatterns  # noqa: E402

# Full mode runs the proxy as its own process (`legion proxy`) so it scales apart from the web.
http_routes = [*proxy_urlpatterns] if settings.LEGION_MODE == "lite" else []
application = ProtocolTypeRouter({"http": URLRouter([*http_routes, re_path(r"", django_asgi_app)])})  # type: ignore[arg-type]  # stubs only know views; Channels routes ASGI apps
