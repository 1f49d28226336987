"""The `http` extension: outbound HTTP requests with timeouts, size limits and SSRF protection."""

from apps.runners.sdk import Extension, extension_settings_schema

EXTENSION = Extension(
    name="http",
    version="1.0.0",
    description="Send HTTP requests with a deadline and a response size limit; loopback, private, link-local and "
                "other non-public targets are refused unless an RBAC policy allows the principal to reach them.",
    trigger_words=("http", "https", "url", "request", "fetch", "api"),
    capabilities=("network_outbound",),
    settings_schema=extension_settings_schema("http"),
)
