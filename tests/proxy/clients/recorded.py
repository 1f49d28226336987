"""The client requests captured under tests/proxy/fixtures/clients, loaded for replay through the proxy.

Made by `python -m tests.proxy.clients.capture` (Claude Code 2.1.332 and Codex 0.171.0, both from npm, each
run non-interactively against a scripted loopback upstream; see that module). One JSON file per request:
`<client>-<version>/<model>-<scenario>-<NN>.json` with method, path, query, headers (keys redacted) and body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "clients"
# Set by the HTTP client or naming the capture's own connection and key; the replay supplies its own.
NOT_REPLAYED = {"host", "content-length", "connection", "accept-encoding", "x-api-key", "authorization"}


@dataclass(frozen=True)
class Captured:
    """One request a client sent, as captured."""

    file: Path
    client: str
    version: str
    model: str
    scenario: str
    step: int
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any

    @property
    def name(self) -> str:
        return f"{self.file.parent.name}/{self.file.stem}"

    @property
    def url_path(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    def replay_headers(self) -> dict[str, str]:
        """The client's own headers (betas, versions, session ids, user agent), without connection and key."""
        return {k: v for k, v in self.headers.items() if k not in NOT_REPLAYED}


def captured(client: str) -> list[Captured]:
    """Every captured request of `client` ("claude-code" or "codex"), all versions kept, in file order."""
    files = sorted(FIXTURES.glob(f"{client}-*/*.json"))
    return [Captured(file=path, **json.loads(path.read_text())) for path in files]
