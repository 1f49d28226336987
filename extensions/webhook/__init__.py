"""The `webhook` extension: send signed webhooks; inbound ones are the engine's endpoints (`apps.webhooks`)."""

from apps.runners.sdk import Extension, extension_settings_schema

EXTENSION = Extension(
    name="webhook",
    version="1.0.0",
    description="Send a JSON payload as a signed webhook: HMAC-SHA256 over the timestamp and body with a named "
                "key, the scheme Legion's inbound webhooks (which start a chain or a function) check. Sent "
                "through the http extension's guard: non-public targets need a network policy.",
    trigger_words=("webhook", "callback", "notify", "signed"),
    capabilities=("network_outbound", "secrets"),
    settings_schema=extension_settings_schema("webhook"),
)
