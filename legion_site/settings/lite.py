"""Lite mode: SQLite, Celery over kombu's filesystem transport, local-memory cache and channel layer."""

from pathlib import Path
from typing import Any

import dj_database_url

from legion_site.settings.base import CONFIG, LEGION_HOME

DATABASES = {"default": dj_database_url.parse(CONFIG["database.url"])}
# Web, worker and beat are separate processes sharing one SQLite file: WAL lets readers run beside the
# writer, and IMMEDIATE transactions take the write lock up front instead of failing on upgrade.
DATABASES["default"]["OPTIONS"] = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# That cache is per process, so RBAC's change version lives in a file all of them read (apps/rbac/signals.py).
RBAC_VERSION_FILE: Path | None = LEGION_HOME / "rbac.version"
CHANNEL_LAYERS: dict[str, dict[str, Any]] = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

BROKER_FOLDER = LEGION_HOME / "broker"
CELERY_BROKER_URL = CONFIG["broker.url"]
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
    "data_folder_in": str(BROKER_FOLDER / "queue"),
    "data_folder_out": str(BROKER_FOLDER / "queue"),
    "control_folder": str(BROKER_FOLDER / "control"),
    "store_processed": False,
}
# The filesystem transport has no broadcast exchange worth relying on; nothing in lite needs remote control.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
# kombu's filesystem transport fails on missing folders, and every process may be the first to publish.
for _folder in ("queue", "control"):
    (BROKER_FOLDER / _folder).mkdir(parents=True, exist_ok=True)
