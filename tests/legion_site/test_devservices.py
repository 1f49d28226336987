"""The coding-agent CLIs are installed from the pinned manifest once, again only when a pin moves."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from legion_site.devservices import ServiceUnavailable, clients_ensure

# Stand-ins for node and npm: `npm ci` logs its call and lays out node_modules/.bin as the real one does.
FAKE_NPM = """#!/bin/sh
echo "$@" >> "{log}"
mkdir -p node_modules/.bin
for bin in claude codex; do
  printf '#!/bin/sh\\necho 1.0.0\\n' > node_modules/.bin/$bin && chmod +x node_modules/.bin/$bin
done
"""


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding only a fake node (v20) and npm, and what the fake npm runs; returns the npm call log."""
    bin_dir, log = tmp_path / "bin", tmp_path / "npm.log"
    bin_dir.mkdir()
    (bin_dir / "npm").write_text(FAKE_NPM.format(log=log))
    (bin_dir / "node").write_text("#!/bin/sh\necho v20.20.2\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    for command in ("mkdir", "chmod"):
        (bin_dir / command).symlink_to(shutil.which(command) or f"/bin/{command}")
    monkeypatch.setenv("PATH", str(bin_dir))
    return log


def manifest(folder: Path, claude: str = "2.1.332") -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "package.json").write_text(json.dumps({"dependencies": {"@anthropic-ai/claude-code": claude}}))
    (folder / "package-lock.json").write_text("{}")
    return folder


def test_clients_are_installed_once_and_their_paths_returned(tools: Path, tmp_path: Path) -> None:
    pins, target = manifest(tmp_path / "pins"), tmp_path / "clients"
    first = clients_ensure(pins, target)
    second = clients_ensure(pins, target)
    assert first == second == {"LEGION_CLAUDE_BIN": str(target / "node_modules/.bin/claude"),
                               "LEGION_CODEX_BIN": str(target / "node_modules/.bin/codex")}
    assert tools.read_text().splitlines() == ["ci --no-audit --no-fund --loglevel=error"]
    assert (target / "package.json").read_text() == (pins / "package.json").read_text()


def test_a_moved_pin_installs_again(tools: Path, tmp_path: Path) -> None:
    target = tmp_path / "clients"
    clients_ensure(manifest(tmp_path / "pins"), target)
    clients_ensure(manifest(tmp_path / "pins", claude="2.1.400"), target)
    assert len(tools.read_text().splitlines()) == 2
    assert len(list(target.glob(".legion-clients-*"))) == 1


def test_an_old_node_is_refused(tools: Path, tmp_path: Path) -> None:
    (tools.parent / "bin" / "node").write_text("#!/bin/sh\necho v18.19.0\n")
    with pytest.raises(ServiceUnavailable, match="node v18.19.0 is too old"):
        clients_ensure(manifest(tmp_path / "pins"), tmp_path / "clients")


def test_no_npm_is_a_service_unavailable(tools: Path, tmp_path: Path) -> None:
    (tools.parent / "bin" / "npm").unlink()
    with pytest.raises(ServiceUnavailable, match="npm"):
        clients_ensure(manifest(tmp_path / "pins"), tmp_path / "clients")
    assert not (tmp_path / "clients").exists()
