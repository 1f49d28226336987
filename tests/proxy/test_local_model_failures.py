"""A local model that cannot start says why: the signal, its last log lines (or that it printed none), what to try.

Driven by a stand-in llama-server (tests/proxy/fakes/llama_server.py) that dies as a build unfit for its CPU does,
since the machines running the suite need not have the CPU that makes the real one crash.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from proxy.local_model import (
    ENABLED_VARIABLE,
    Discovery,
    LocalModelError,
    LocalModelTimeout,
    ServerOptions,
    local_model_launch,
    local_model_probe,
    local_model_start,
)
from tests.proxy.fakes.llama_server import fake_installation
from tests.support import free_port

pytestmark = pytest.mark.timeout(60)

OPTIONS = ServerOptions(startup_timeout=20)


def start_failure(tmp_path: Path, behaviour: str) -> str:
    with pytest.raises(LocalModelError) as failure:
        local_model_start(fake_installation(tmp_path, behaviour), OPTIONS, log_path=tmp_path / "log")
    return str(failure.value)


@pytest.mark.parametrize("name", ["SIGSEGV", "SIGILL"])
def test_a_crash_while_loading_names_the_signal_the_last_log_lines_and_what_to_try(tmp_path: Path, name: str) -> None:
    message = start_failure(tmp_path, f"crash-loading:{name}")
    assert f"died of {name} while loading the model" in message
    assert "llama threadpool init, n_threads = 2" in message and "llama_context: constructing" in message
    assert "LEGION_LOCAL_MODEL=rebuild ./legion start" in message and f"{ENABLED_VARIABLE}=false" in message
    assert str(tmp_path / "log") in message


def test_a_crash_before_any_output_says_it_printed_nothing_and_what_to_try(tmp_path: Path) -> None:
    message = start_failure(tmp_path, "silent:SIGILL")
    assert "died of SIGILL" in message and "it printed nothing" in message
    assert "another CPU" in message and "LEGION_LOCAL_MODEL=rebuild" in message
    assert "nothing logged" not in message


def test_an_exit_with_an_error_gives_its_code_and_its_last_lines(tmp_path: Path) -> None:
    message = start_failure(tmp_path, "exit:1")
    assert "exited with code 1 while loading the model" in message
    assert "couldn't bind HTTP server socket" in message
    assert "rebuild" not in message, "an ordinary error is not blamed on the build"


def test_a_server_healthy_until_its_first_completion_fails_the_start_with_the_signal(tmp_path: Path) -> None:
    started = time.monotonic()
    message = start_failure(tmp_path, "crash-warm-up:SIGSEGV")
    assert "died of SIGSEGV answering its warm-up completion" in message and "LEGION_LOCAL_MODEL=rebuild" in message
    assert time.monotonic() - started < 10


def test_a_server_still_loading_at_the_deadline_is_slow_not_broken_and_is_stopped(tmp_path: Path) -> None:
    options = ServerOptions(port=free_port(), startup_timeout=1)
    url = f"http://127.0.0.1:{options.port}/v1"
    with pytest.raises(LocalModelTimeout, match="did not become healthy within 1 s"):
        local_model_start(fake_installation(tmp_path, "loading"), options, log_path=tmp_path / "log")
    assert (local_model_probe(url, timeout=1) or "").startswith("it does not answer")


def test_a_start_runs_without_weight_repacking_and_warms_up_with_one_token(tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    with local_model_start(fake_installation(tmp_path, f"serve:{record}"), OPTIONS, log_path=tmp_path / "log"):
        seen = json.loads(record.read_text())
    assert "--no-repack" in seen["argv"], "repacked weight layouts are where ggml's AMX path crashes"
    (warm_up,) = seen["requests"]
    assert warm_up["path"] == "/completion" and warm_up["body"]["n_predict"] == 1


def test_launch_reports_the_crash_and_runs_on_without_the_local_tier(tmp_path: Path) -> None:
    discovery = Discovery(fake_installation(tmp_path, "crash-loading:SIGSEGV"))
    launch = local_model_launch({"proxy.local_model.enabled": True, "proxy.local_model.startup_timeout_seconds": 20},
                                log_path=tmp_path / "log", discovery=discovery)
    assert launch.server is None and launch.url is None
    assert launch.note.startswith("local tier absent: llama-server died of SIGSEGV")
