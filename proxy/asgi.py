"""ASGI entry of `legion proxy`: only the proxy's routes, no Django views or middleware on the hot path."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "legion_site.settings")
django.setup()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from proxy.runtime import settings_current  # noqa: E402
from proxy.urls import proxy_urlpatterns  # noqa: E402

settings_current()  # invalid `proxy.*` settings stop `legion proxy` at startup rather than at the first request

application = ProtocolTypeRouter({"http": URLRouter(proxy_urlpatterns)})
