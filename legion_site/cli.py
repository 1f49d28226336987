"""Entry point of `./legion` and `manage.py`: runs Django's command line, reporting bad settings plainly."""

from __future__ import annotations

import os
import sys

from apps.core.config import ConfigurationError


def main(argv: list[str], prog: str = "legion") -> int:
    """`legion X …` is `manage.py legion X …`; a configuration error prints one line and exits 2."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "legion_site.settings")
    args = argv[1:] if prog == "manage.py" else ["legion", *argv[1:]]
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line([prog, *args])
    except ConfigurationError as exc:
        print(f"legion: configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
