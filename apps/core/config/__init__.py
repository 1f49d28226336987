"""Legion's settings: schema, layered loading and secret references."""

from apps.core.config.loader import Config, ConfigurationError, config_load

__all__ = ["Config", "ConfigurationError", "config_load"]
