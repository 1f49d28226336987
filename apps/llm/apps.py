"""Django app configuration for llm: every write of the lineup bumps the version the proxies poll."""

from django.apps import AppConfig


class LlmConfig(AppConfig):
    name = "apps.llm"
    label = "llm"
    verbose_name = "LLM proxy catalog"

    def ready(self) -> None:
        from apps.llm.signals import lineup_signals_connect

        lineup_signals_connect()
