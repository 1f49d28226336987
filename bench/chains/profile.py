"""`--profile FILE`: a py-spy profile of the worker (pool processes included, waits included) while it runs.

An `.svg` file gets a flame graph; any other name gets collapsed stacks (one `frame;frame;… count` line
per stack), which `flamegraph.pl`, speedscope or a few lines of Python can read.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path


class Profiler:
    """py-spy recording one process tree until stopped; the SVG is written when it stops."""

    def __init__(self, *, pid: int, output: Path) -> None:
        executable = shutil.which("py-spy") or str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "py-spy")
        if not Path(executable).exists():
            raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
        self.output = output
        # --idle keeps the time spent waiting on PostgreSQL and RabbitMQ, which is most of a step.
        self.process = subprocess.Popen(
            [executable, "record", "--pid", str(pid), "--subprocesses", "--idle", "--rate", "200",
             "--format", "flamegraph" if output.suffix == ".svg" else "raw", "--output", str(output)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
