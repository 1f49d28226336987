"""How a child process ended and what it last printed, in words a person reading a terminal can act on."""

from __future__ import annotations

import signal
from pathlib import Path


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:  # a real-time signal has no name
        return f"signal {number}"


def exit_describe(returncode: int) -> str:
    """`exited with code 3`, or `killed by SIGKILL` (Popen reports a signal as a negative code)."""
    return f"killed by {signal_name(-returncode)}" if returncode < 0 else f"exited with code {returncode}"


def log_tail(path: Path, lines: int = 5) -> list[str]:
    """The last non-blank lines of a log file; none when it cannot be read."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    return [line.rstrip() for line in text.splitlines() if line.strip()][-lines:]
