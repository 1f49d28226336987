"""The proxy's HTTP routes, mounted by `proxy.asgi` (full mode) and by the web's ASGI app (lite mode)."""

from django.urls import re_path

from proxy.consumers import (
    ChatCompletionsConsumer,
    CountTokensConsumer,
    EmbeddingsConsumer,
    MessagesConsumer,
    ModelConsumer,
    ModelsConsumer,
    ResponsesConsumer,
    StatusConsumer,
    UnknownPathConsumer,
)

proxy_urlpatterns = [
    re_path(r"^v1/chat/completions$", ChatCompletionsConsumer.as_asgi()),
    re_path(r"^v1/messages$", MessagesConsumer.as_asgi()),
    re_path(r"^v1/responses$", ResponsesConsumer.as_asgi()),
    re_path(r"^v1/messages/count_tokens$", CountTokensConsumer.as_asgi()),
    re_path(r"^v1/embeddings$", EmbeddingsConsumer.as_asgi()),
    re_path(r"^v1/models$", ModelsConsumer.as_asgi()),
    re_path(r"^v1/models/(?P<model>.+)$", ModelConsumer.as_asgi()),  # ids may hold `/` (provider/model) and `:`
    re_path(r"^v1/legion/status$", StatusConsumer.as_asgi()),
    # Keep LAST: every other path under /v1 is a 404 in the caller's dialect, and in lite mode this is also what
    # keeps /v1/... from reaching Django's HTML 404 behind the proxy's routes (legion_site/asgi.py).
    re_path(r"^v1(?:/.*)?$", UnknownPathConsumer.as_asgi()),
]
