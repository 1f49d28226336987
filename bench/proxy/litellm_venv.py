"""LiteLLM's proxy in the benchmark's own virtualenv (bench/.venv-litellm), created on first run from PyPI.

It stays out of Legion's environment: LiteLLM pins its own FastAPI, pydantic and httpx versions. A stamp
file records the pinned requirement, so changing the pin rebuilds the virtualenv.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

VENV = Path(__file__).resolve().parents[1] / ".venv-litellm"
REQUIREMENT = "litellm[proxy]==1.106.2"  # newest release installable here; bump deliberately, figures change
_STAMP = VENV / ".bench-requirement"


def litellm_venv() -> Path:
    """The virtualenv with the pinned LiteLLM, creating or rebuilding it when needed (about a minute)."""
    if _STAMP.is_file() and _STAMP.read_text() == REQUIREMENT and (VENV / "bin" / "litellm").is_file():
        return VENV
    print(f"bench: installing {REQUIREMENT} into {VENV} (first run only)", file=sys.stderr, flush=True)
    if VENV.exists():
        shutil.rmtree(VENV)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    done = subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", REQUIREMENT], capture_output=True, text=True)
    if done.returncode != 0:
        problems = [line for line in done.stderr.splitlines() if "is ignored: it is neither" not in line]
        raise RuntimeError(f"installing {REQUIREMENT} failed:\n" + "\n".join(problems[-30:]))
    _STAMP.write_text(REQUIREMENT)
    return VENV
