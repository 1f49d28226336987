"""`legion doctor` names each service and what is wrong with it, and exits non-zero when anything is."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support import MANAGE, free_port, full_env, lite_env


def doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MANAGE, "doctor", "--json"], env=env, capture_output=True, text=True, timeout=60)


def test_full_mode_with_every_service_up_passes(test_database: str) -> None:
    result = doctor(full_env(test_database))
    report = json.loads(result.stdout)
    assert result.returncode == 0, report
    names = {c["name"] for c in report["checks"]}
    assert names == {"database", "broker", "cache", "spool", "pgvector", "channel layer", "providers", "local model"}


def test_rabbitmq_unreachable_is_named_and_fails(test_database: str) -> None:
    dead = f"amqp://guest:guest@127.0.0.1:{free_port()}//"
    result = doctor(full_env(test_database, BROKER_URL=dead))
    report = json.loads(result.stdout)
    broker = next(c for c in report["checks"] if c["name"] == "broker")
    assert result.returncode == 1
    assert not broker["ok"]
    assert "RabbitMQ" in broker["detail"] and "unreachable" in broker["detail"]
    assert "guest:***@" in broker["detail"]
    assert all(c["ok"] for c in report["checks"] if c["name"] != "broker")


def test_redis_unreachable_fails_cache_and_channel_layer(test_database: str) -> None:
    result = doctor(full_env(test_database, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"))
    failed = {c["name"] for c in json.loads(result.stdout)["checks"] if not c["ok"]}
    assert result.returncode == 1
    assert failed == {"cache", "channel layer"}


def test_lite_mode_needs_no_services(tmp_path: Path) -> None:
    result = doctor(lite_env(tmp_path))
    report = json.loads(result.stdout)
    assert result.returncode == 0, report
    assert report["mode"] == "lite"


def test_lite_mode_reports_the_local_tier_and_warns_when_no_provider_is_declared(tmp_path: Path) -> None:
    env = lite_env(tmp_path, LEGION_PROXY_LOCAL_MODEL_ENABLED="false")
    result = subprocess.run([*MANAGE, "doctor"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout
    assert "WARN  providers      none declared" in result.stdout
    assert "ok    local model    off (proxy.local_model.enabled is false)" in result.stdout
    assert "warning(s): providers" in result.stdout


def test_a_local_model_given_by_url_that_does_not_answer_is_a_warning(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    report = json.loads(doctor(lite_env(tmp_path, LEGION_PROXY_LOCAL_MODEL_URL=url)).stdout)
    local = next(c for c in report["checks"] if c["name"] == "local model")
    providers = next(c for c in report["checks"] if c["name"] == "providers")
    assert report["ok"] and local["ok"] and local["warning"]
    assert local["detail"].startswith(f"declared at {url} but it does not answer")
    assert "legion-local" in providers["detail"]


def test_plain_output_lists_the_problem(test_database: str) -> None:
    env = full_env(test_database, BROKER_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}//")
    result = subprocess.run([*MANAGE, "doctor"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "FAIL  broker" in result.stdout
    assert "1 problem(s): broker" in result.stdout


def test_bad_settings_stop_startup_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    settings_file = tmp_path / "legion.toml"
    settings_file.write_text("[web]\nprot = 80\n")
    env = lite_env(tmp_path, LEGION_SETTINGS_FILE=str(settings_file))
    result = subprocess.run([*MANAGE, "doctor"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"settings file {settings_file}: unknown setting 'web.prot'" in result.stderr
    assert "Traceback" not in result.stderr
