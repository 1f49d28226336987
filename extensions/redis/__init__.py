"""The `redis` extension: get, set and publish on named Redis connections."""

from apps.runners.sdk import Extension, extension_settings_schema

EXTENSION = Extension(
    name="redis",
    version="1.0.0",
    description="Get and set string values (with an optional expiry) and publish messages on Redis connections "
                "named in the settings.",
    trigger_words=("redis", "cache", "key", "publish", "pubsub"),
    capabilities=("network_outbound", "secrets"),
    settings_schema=extension_settings_schema("redis"),
)
