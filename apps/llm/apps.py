"""Django app configuration for llm: every catalog write bumps the catalog version the proxies poll."""

from django.apps import AppConfig


class LlmConfig(AppConfig):
    name = "apps.llm"
    label = "llm"
    verbose_name = "LLM proxy catalog"

    def ready(self) -> None:
        from apps.llm.signals import catalog_signals_connect

        catalog_signals_connect()
