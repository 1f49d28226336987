"""Full mode: PostgreSQL with pgvector, RabbitMQ or Redis as broker, Redis for cache and channel layer."""

from pathlib import Path
from typing import Any

import dj_database_url

from legion_site.settings.base import CONFIG

DATABASES = {"default": dj_database_url.parse(CONFIG["database.url"], conn_max_age=60, conn_health_checks=True)}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CONFIG["redis.url"],
        "KEY_PREFIX": "legion",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
RBAC_VERSION_FILE: Path | None = None  # RBAC's change version lives in the shared cache (apps/rbac/signals.py)
CHANNEL_LAYERS: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [CONFIG["redis.url"]], "prefix": "legion"},
    }
}

CELERY_BROKER_URL = CONFIG["broker.url"]
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {"confirm_publish": True}
