"""Test settings: full mode against the real services `./legion test` starts or checks."""

import os

os.environ.setdefault("LEGION_MODE", "full")

from legion_site.settings import *  # noqa: F403
from legion_site.settings.base import ALLOWED_HOSTS, STATIC_ROOT

ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request without it
