"""The `postgres` extension: parameterised queries on named PostgreSQL connections."""

from apps.runners.sdk import Extension, extension_settings_schema

EXTENSION = Extension(
    name="postgres",
    version="1.0.0",
    description="Run one parameterised SQL statement on a connection named in the settings; read-only unless "
                "the connection is listed as writable and the call asks to write.",
    trigger_words=("postgres", "postgresql", "sql", "database", "query"),
    capabilities=("network_outbound", "secrets"),
    settings_schema=extension_settings_schema("postgres"),
)
