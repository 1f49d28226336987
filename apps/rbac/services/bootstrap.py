"""Bootstrapping the first administrator: a superuser login and its principal."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from apps.rbac.services.principals import principal_ensure_for_user

ADMIN_USERNAME = "admin"


@transaction.atomic
def admin_bootstrap(*, secrets_dir: Path) -> tuple[str, str, bool]:
    """Create the first superuser and its principal once; return (username, password, created).

    The generated password is kept in `<secrets_dir>/admin_password` (mode 0600) so later starts can
    print it again; once an operator changes it there, the file is only a record of the first one.
    """
    user_model = get_user_model()
    password_file = secrets_dir / "admin_password"
    if user_model.objects.filter(is_superuser=True).exists():
        password = password_file.read_text().strip() if password_file.exists() else "(unchanged, not shown)"
        user = user_model.objects.filter(is_superuser=True).order_by("pk").first()
        return (user.get_username() if user else ADMIN_USERNAME, password, False)
    password = secrets.token_urlsafe(12)
    user = user_model.objects.create_superuser(username=ADMIN_USERNAME, email="", password=password)
    principal_ensure_for_user(user=user)  # so `legion task run --as admin` works before any login
    secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    return (ADMIN_USERNAME, password, True)
