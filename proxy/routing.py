"""The proxy's HTTP routes, mounted by `proxy.asgi` (full mode) and by the web's ASGI app (lite mode)."""

from django.urls import re_path

from proxy.consumers import ModelsConsumer

proxy_urlpatterns = [
    re_path(r"^v1/models$", ModelsConsumer.as_asgi()),
]
