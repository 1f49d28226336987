"""Django settings: the common base, one module per integration, then the override for the mode."""

from legion_site.settings.api import *  # noqa: F403
from legion_site.settings.base import *  # noqa: F403
from legion_site.settings.base import CONFIG
from legion_site.settings.celery import *  # noqa: F403
from legion_site.settings.composition import *  # noqa: F403

if CONFIG.mode == "full":
    from legion_site.settings.full import *  # noqa: F403
else:
    from legion_site.settings.lite import *  # noqa: F403
