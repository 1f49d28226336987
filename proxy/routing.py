"""The proxy's HTTP routes, mounted by `proxy.asgi` (full mode) and by the web's ASGI app (lite mode)."""

from django.urls import re_path

from proxy.consumers import (
    ChatCompletionsConsumer,
    CountTokensConsumer,
    EmbeddingsConsumer,
    MessagesConsumer,
    ModelsConsumer,
    ResponsesConsumer,
    StatusConsumer,
)

proxy_urlpatterns = [
    re_path(r"^v1/chat/completions$", ChatCompletionsConsumer.as_asgi()),
    re_path(r"^v1/messages$", MessagesConsumer.as_asgi()),
    re_path(r"^v1/responses$", ResponsesConsumer.as_asgi()),
    re_path(r"^v1/messages/count_tokens$", CountTokensConsumer.as_asgi()),
    re_path(r"^v1/embeddings$", EmbeddingsConsumer.as_asgi()),
    re_path(r"^v1/models$", ModelsConsumer.as_asgi()),
    re_path(r"^v1/legion/status$", StatusConsumer.as_asgi()),
]
