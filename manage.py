#!/usr/bin/env python
"""Django's command-line utility; `legion` is the friendlier front door to the same commands."""

import sys

from legion_site.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv, prog="manage.py"))
