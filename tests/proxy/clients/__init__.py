"""The coding-agent CLIs teams point at the proxy (Claude Code, Codex): capturing their requests, running them."""
