"""Django settings: the common base, then the override for the mode the layered config selects."""

from legion_site.settings.base import *  # noqa: F403
from legion_site.settings.base import CONFIG

if CONFIG.mode == "full":
    from legion_site.settings.full import *  # noqa: F403
else:
    from legion_site.settings.lite import *  # noqa: F403
