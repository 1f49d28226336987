"""The `smtp` extension: send mail through the configured SMTP server."""

from apps.runners.sdk import Extension, extension_settings_schema

EXTENSION = Extension(
    name="smtp",
    version="1.0.0",
    description="Send plain-text or HTML mail through one configured SMTP server (STARTTLS or implicit TLS, "
                "optional login), from the configured sender.",
    trigger_words=("smtp", "mail", "email", "notify"),
    capabilities=("network_outbound", "secrets"),
    settings_schema=extension_settings_schema("smtp"),
)
