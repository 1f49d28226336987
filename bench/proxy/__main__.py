"""`python -m bench.proxy`: start the backend and both proxies, measure every path, print the table and targets.

Paths are measured in interleaved rounds (direct, Legion, LiteLLM, then again), so background load on the
shared machine falls on all of them alike rather than on whichever ran during a busy moment.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import uvloop

from bench.proxy import report, servers
from bench.proxy.litellm_venv import REQUIREMENT, litellm_venv
from bench.proxy.load import Result, request_bytes, run
from bench.proxy.report import Scenario

SCENARIOS: list[Scenario] = [(False, 1), (True, 1), (False, 16), (True, 16)]
# Per round and path: (most requests, most seconds). Concurrency 1 measures latency, 16 throughput.
SLICE = {1: (150, 1.0), 16: (4000, 2.0)}


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds per scenario (default 4)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every round's request and time budget")
    parser.add_argument("--no-litellm", action="store_true", help="skip LiteLLM (no install, no ratios against it)")
    parser.add_argument("--json", type=Path, help="also write the raw figures to this file")
    parser.add_argument("--keep-logs", action="store_true", help="keep the servers' logs and print where")
    parser.add_argument("--profile", type=Path, metavar="SVG",
                        help="record Legion's proxy with py-spy (pip install py-spy into .venv) into this flame graph")
    return parser.parse_args()


async def _measure(paths: dict[str, servers.Server], options: argparse.Namespace) -> dict[Scenario, dict[str, Result]]:
    requests = {(name, stream): request_bytes(s.port, f"{s.base}/chat/completions", stream=stream,
                                              api_key=s.key)
                for name, s in paths.items() for stream in (False, True)}
    for (name, stream), request in requests.items():  # warm connections, pools and caches
        await run(paths[name].port, request, stream=stream, concurrency=16, max_requests=200, max_seconds=1.0)
    results: dict[Scenario, dict[str, Result]] = {}
    for scenario in SCENARIOS:
        stream, concurrency = scenario
        most, seconds = SLICE[concurrency]
        merged = results[scenario] = {name: Result() for name in paths}
        for _ in range(options.rounds):
            for name, server in paths.items():
                merged[name].merge(await run(server.port, requests[name, stream], stream=stream,
                                             concurrency=concurrency, max_requests=int(most * options.scale),
                                             max_seconds=seconds * options.scale))
        print(f"bench: measured {report.scenario_name(scenario)}", file=sys.stderr, flush=True)
    return results


def _profiler(output: Path, legion: servers.Server) -> subprocess.Popen[bytes]:
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/python -m pip install py-spy")
    return subprocess.Popen([spy, "record", "--pid", str(legion.process.pid), "--output", str(output),
                             "--rate", "250", "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    options = _options()
    venv = None if options.no_litellm else litellm_venv()
    workdir = Path(tempfile.mkdtemp(prefix="legion-bench-proxy-"))
    started: list[servers.Server] = []
    began = time.monotonic()
    try:
        backend = servers.backend_start(workdir)
        started.append(backend)
        started.append(servers.legion_start(workdir, backend))
        if venv is not None:
            started.append(servers.litellm_start(workdir, backend, venv))
        paths = {"direct": backend, **{s.name: s for s in started[1:]}}
        profiler = _profiler(options.profile, started[1]) if options.profile else None
        try:
            results = uvloop.run(_measure(paths, options))
        finally:
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
                profiler.wait(timeout=60)
    finally:
        for server in reversed(started):
            server.stop()
    print(f"\nLegion proxy benchmark: fake OpenAI backend (64-chunk streams), paths direct / Legion "
          f"(`legion proxy`, lite settings) / {REQUIREMENT if venv else 'no LiteLLM'}; "
          f"{options.rounds} interleaved rounds; {time.monotonic() - began:.0f} s\n")
    print(report.table(results))
    print()
    for line in report.context_lines(results):
        print(line)
    for target in report.targets(results):
        print(target.line())
    failed = sum(by["legion"].errors for by in results.values())
    print(f"Legion served every request: {'NO, ' + str(failed) + ' requests failed' if failed else 'yes'}")
    print(report.caveat())
    errors = {f"{report.scenario_name(s)} {p}": r.first_error for s, by in results.items() for p, r in by.items()
              if r.errors}
    for where, first in errors.items():
        print(f"errors in {where}: first was {first}")
    if options.json:
        options.json.write_text(json.dumps({report.scenario_name(s): {p: asdict(r) for p, r in by.items()}
                                            for s, by in results.items()}))
    if options.keep_logs:
        print(f"server logs in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
