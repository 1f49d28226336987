"""First-start bootstrap of the administrator."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import authenticate, get_user_model

from apps.rbac.models import Principal
from apps.rbac.services import admin_bootstrap


@pytest.mark.django_db
def test_first_bootstrap_creates_a_superuser_with_a_private_password_file(tmp_path: Path) -> None:
    username, password, created = admin_bootstrap(secrets_dir=tmp_path)

    assert created
    assert authenticate(username=username, password=password) is not None
    assert get_user_model().objects.get(username=username).is_superuser
    assert Principal.objects.get(name=username).user is not None
    assert (tmp_path / "admin_password").read_text().strip() == password
    assert oct((tmp_path / "admin_password").stat().st_mode & 0o777) == "0o600"


@pytest.mark.django_db
def test_later_bootstraps_create_nothing_and_report_the_first_password(tmp_path: Path) -> None:
    first = admin_bootstrap(secrets_dir=tmp_path)
    second = admin_bootstrap(secrets_dir=tmp_path)

    assert second == (first[0], first[1], False)
    assert get_user_model().objects.filter(is_superuser=True).count() == 1
