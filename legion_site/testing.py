"""`./legion test`: start or check the real services, then lint, type-check and run the whole suite.

With arguments, only pytest runs, with those arguments (`./legion test tests/apps/rbac -x`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from legion_site.devservices import DEFAULT_BROKER_URL, DEFAULT_REDIS_URL, ServiceUnavailable, services_ensure

ROOT = Path(__file__).resolve().parent.parent


# Fixed secrets for the suite only; full mode has no defaults for them.
TEST_SECRETS = {
    "SECRET_KEY": "test-only-secret-key-not-for-production-0123456789",
    "LEGION_CRYPTO_KEYS": '{"test-1": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}',
    "LEGION_CRYPTO_ACTIVE_KEY": "test-1",
    "LEGION_JWT_SECRET": "test-only-jwt-secret-0123456789abcdef0123456789",
}


def main(argv: list[str]) -> int:
    """Runs may go side by side: give each its own LEGION_TEST_DB, LEGION_TEST_HOME and Redis database."""
    home = Path(os.environ.get("LEGION_TEST_HOME", ROOT / "var" / "test"))
    try:
        service_env = services_ensure(
            ROOT / "var" / "pgserver",
            database=os.environ.get("LEGION_TEST_DB", "legion"),
            redis_url=os.environ.get("LEGION_TEST_REDIS_URL", DEFAULT_REDIS_URL),
            broker_url=os.environ.get("LEGION_TEST_BROKER_URL", DEFAULT_BROKER_URL),
            clients=(ROOT / "requirements" / "clients", ROOT / "var" / "clients"),
        )
    except ServiceUnavailable as exc:
        print(f"legion test: {exc}", file=sys.stderr)
        return 3
    # A developer's own legion.toml and .env must not leak into the suite.
    # DJANGO_SETTINGS_MODULE is set explicitly: importing legion_site (for its Celery app) sets a default.
    env = {**os.environ, **TEST_SECRETS, **service_env, "LEGION_MODE": "full", "LEGION_HOME": str(home),
           "LEGION_SETTINGS_FILE": "", "LEGION_ENV_FILE": "", "DJANGO_SETTINGS_MODULE": "legion_site.settings.test"}
    python = sys.executable
    steps = [[python, "-m", "pytest", *argv]] if argv else [
        [python, "-m", "ruff", "check", "."],
        [python, "-m", "mypy", "."],
        [str(Path(python).with_name("lint-imports")), "--no-cache"],  # the layers' contracts, in pyproject.toml
        [python, "-m", "pytest"],
    ]
    for step in steps:
        label = " ".join(step[2:] if step[0] == python else [Path(step[0]).name, *step[1:]])
        print(f"legion test: {label}", flush=True)
        code = subprocess.run(step, cwd=ROOT, env=env, check=False).returncode
        if code != 0:
            print(f"legion test: `{label}` failed (exit {code})", file=sys.stderr)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
