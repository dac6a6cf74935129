"""Throughput of the flag doors against the bare-route ceiling of the same stack.

One uvicorn worker pinned to core 0 serves the app with 50 flags (a third of them using
segments, one in six behind a prerequisite; `--plain-mix` for neither); wrk, pinned to core 1,
loads (a) a bare route returning a fixed 2.7 kB JSON body, (b) the personalised mobile
feed with a different user on every request, (c) the feed's 304 path, (d) OFREP bulk
evaluation, then (e) the feed again while the worker holds `--streams` open OFREP event
streams; with `--granian`, (f) the bare route and (g) the feed on Granian, to choose the
server by measurement. Rounds are interleaved and the median kept, so drift on a shared
machine hits every scenario alike. Prints requests/s, p99 and the ratios to (a).

    python bench/flag_feed.py                    # embedded SQLite
    python bench/flag_feed.py --database-url postgresql+asyncpg://postgres@127.0.0.1/test

Needs `wrk` (Debian: apt-get install wrk) and `taskset` (util-linux). Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.flag_feed_ceiling import CEILING_PATH  # noqa: E402
from bench.streams_client import held_streams  # noqa: E402
from core.database import Database  # noqa: E402
from core.settings import load_settings  # noqa: E402
from migrations import runner  # noqa: E402
from models import FeatureFlag  # noqa: E402
from models.flag_segments import FlagSegment  # noqa: E402

FEED = "/api/feature-flags/mobile/active"
OFREP_BULK = "/ofrep/v1/evaluate/flags"
CEILING = CEILING_PATH
HOST = "127.0.0.1"
MAX_DURATION_S = 60
"""No single load run may last longer than this, whatever is asked."""

# wrk's Lua hooks: vary the user on every request and print one JSON line of results.
SUMMARY = """
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"errors": %d, "bad_status": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status))
end
"""
SCRIPTS = {
    "ceiling": "",
    "feed": f"""
local n = 0
local platforms = {{"ios", "android", "web"}}
local countries = {{"US", "GB", "DE", "FR", "NG"}}
request = function()
  n = n + 1
  local path = "{FEED}?user_id=user-" .. n .. "&platform=" .. platforms[n % 3 + 1]
    .. "&app_version=4." .. (n % 12) .. ".0&attr.country=" .. countries[n % 5 + 1]
  return wrk.format("GET", path)
end
""",
    "not_modified": "",
    "ofrep": """
local n = 0
local platforms = {"ios", "android", "web"}
local countries = {"US", "GB", "DE", "FR", "NG"}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = '{"context": {"targetingKey": "user-' .. n .. '", "platform": "'
    .. platforms[n % 3 + 1] .. '", "appVersion": "4.' .. (n % 12) .. '.0", "country": "'
    .. countries[n % 5 + 1] .. '"}}'
  return wrk.format(nil, nil, nil, body)
end
""",
}
NOT_MODIFIED_QUERY = "?user_id=user-42&platform=ios&app_version=4.2.0&attr.country=US"


def fifty_flags(*, targeted: bool = True) -> list[FeatureFlag]:
    """A realistic mix: plain switches, targeted releases, rollouts, rules and experiments;
    with `targeted`, a third of them also limited to or excluding a segment and one in six
    behind a prerequisite flag, in chains up to eight long."""
    flags = []
    for n in range(50):
        kind = n % 5
        flag = FeatureFlag(
            key=f"feature-{n:02d}",
            name=f"Feature {n}",
            description="",
            flag_type="experiment" if kind == 4 else "release",
            enabled=n % 10 != 9,
            rollout_percentage=Decimal(100) if kind in (0, 1, 3) else Decimal(10 + 7 * n % 90),
            platforms=["ios", "android"] if kind == 1 else [],
            min_app_version="4.2.0" if kind == 1 else None,
            max_app_version="4.10.0" if n % 7 == 0 else None,
            allow_list=[f"user-{n}"] if kind == 2 else [],
            deny_list=[f"user-{n + 1}"] if kind == 2 else [],
            rules=(
                [
                    {"attribute": "country", "operator": "in", "values": ["US", "GB"]},
                    {"attribute": "country", "operator": "neq", "values": ["FR"]},
                ]
                if kind == 3
                else []
            ),
            variants=(
                [
                    {"name": "control", "weight": 50, "payload": {"layout": "list"}},
                    {"name": "treatment", "weight": 50, "payload": {"layout": "grid"}},
                ]
                if kind == 4
                else []
            ),
            default_value=False,
        )
        if targeted:
            flag.included_segments = ["early-adopters"] if n % 6 == 1 else []
            flag.excluded_segments = ["internal-testers"] if n % 6 == 2 else []
            flag.prerequisites = [{"flag": f"feature-{n - 6:02d}"}] if n % 6 == 5 and n > 5 else []
        flags.append(flag)
    return flags


def two_segments() -> list[FlagSegment]:
    """The segments the targeted mix names: one by rules and an allow list, one by a list."""
    return [
        FlagSegment(
            key="early-adopters",
            name="Early adopters",
            rules=[
                {"attribute": "country", "operator": "in", "values": ["US", "GB", "DE"]},
                {"attribute": "app_version", "operator": "semver_gte", "values": ["4.3.0"]},
            ],
            allow_list=[f"user-{n}" for n in range(1, 200, 7)],
            deny_list=["user-8"],
        ),
        FlagSegment(
            key="internal-testers",
            name="Internal testers",
            allow_list=[f"user-{n}" for n in range(0, 1000, 3)],
        ),
    ]


async def prepare(environment: dict[str, str], *, targeted: bool = True) -> None:
    settings = load_settings(environment)
    await asyncio.to_thread(runner.upgrade, settings)
    database = Database(settings)
    try:
        async with database.session() as db, db.begin():
            if targeted:
                db.add_all(two_segments())
            db.add_all(fifty_flags(targeted=targeted))
    finally:
        await database.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


SHIPPED = Path(sys.executable).with_name("swipesavvy-admin")


def shipped(port: int) -> list[str]:
    """The app as operators run it: `serve`, one worker."""
    return [str(SHIPPED), "serve", "--host", HOST, "--port", str(port)]


def bare(port: int) -> list[str]:
    """The ceiling: a bare route on the fastest server configuration installed."""
    return [
        sys.executable, "-m", "uvicorn", "bench.flag_feed_ceiling:app",
        "--app-dir", str(ROOT), "--host", HOST, "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


GRANIAN = Path(sys.executable).with_name("granian")


def on_granian(port: int, target: str, *, factory: bool = False) -> list[str]:
    """`target` on Granian (Rust I/O, one worker, single-threaded runtime, uvloop), for
    choosing the server by measurement (`--granian`)."""
    return [
        str(GRANIAN), "--interface", "asgi", "--host", HOST, "--port", str(port),
        "--workers", "1", "--runtime-mode", "st", "--loop", "uvloop", "--http", "1",
        "--no-ws", "--no-access-log", "--log-level", "warning", "--working-dir", str(ROOT),
        *(["--factory"] if factory else []), target,
    ]  # fmt: skip


@dataclass(frozen=True)
class Serving:
    base: str
    pid: int
    """The server's own process: taskset runs the command in its place."""


@contextmanager
def server(
    command: list[str], environment: dict[str, str], probe: str, stop_within_s: float = 10
) -> Iterator[Serving]:
    """`command` serving on core 0 until the block ends, once `probe` answers 200."""
    process = subprocess.Popen(
        ["taskset", "-c", "0", *command], env=os.environ | environment, cwd=ROOT
    )
    base = f"http://{HOST}:{command[command.index('--port') + 1]}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + probe, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("the server did not come up")
            time.sleep(0.2)
        yield Serving(base, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=stop_within_s)


@dataclass
class Run:
    requests_per_s: float
    p99_ms: float


def check_answers(base: str, ceiling_base: str) -> str:
    """Every scenario answers as expected before it is loaded; returns the 304 ETag."""
    ceiling = httpx.get(ceiling_base + CEILING)
    feed = httpx.get(base + FEED + NOT_MODIFIED_QUERY)
    etag = feed.headers["etag"]
    again = httpx.get(base + FEED + NOT_MODIFIED_QUERY, headers={"If-None-Match": etag})
    ofrep = httpx.post(base + OFREP_BULK, json={"context": {"targetingKey": "user-1"}})
    assert ceiling.status_code == 200, ceiling.text
    assert feed.status_code == 200, feed.text
    assert again.status_code == 304
    assert ofrep.status_code == 200, ofrep.text
    assert len(ofrep.json()["flags"]) == 50
    print(
        f"bodies: ceiling {len(ceiling.content)} B, feed {len(feed.content)} B "
        f"({len(feed.json()['flags'])} flags on), OFREP bulk {len(ofrep.content)} B"
    )
    return etag


def load(
    bases: dict[str, str], scenario: str, etag: str, args: argparse.Namespace, seconds: int
) -> Run:
    base = bases["app"]
    url = {
        "ceiling": bases["ceiling"] + CEILING,
        "feed": base + FEED,
        "not_modified": base + FEED + NOT_MODIFIED_QUERY,
        "ofrep": base + OFREP_BULK,
    }.get(scenario) or bases[scenario]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(SCRIPTS[scenario.removeprefix("granian_")] + SUMMARY)
    command = [
        "taskset", "-c", "1", "wrk", "--threads", "1",
        "--connections", str(args.connections), "--duration", f"{seconds}s",
        "--timeout", "5s", "--script", script.name,
    ]  # fmt: skip
    if scenario == "not_modified":
        command += ["--header", f"If-None-Match: {etag}"]
    try:
        output = subprocess.run(
            [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30
        ).stdout
    finally:
        os.unlink(script.name)
    result = json.loads(output.strip().splitlines()[-1])
    if result["errors"] or result["bad_status"]:
        raise SystemExit(
            f"{scenario}: {result['errors']} errors, {result['bad_status']} bad statuses"
        )
    return Run(result["requests"] / (result["duration_us"] / 1e6), result["p99_us"] / 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--seconds", type=int, default=5, help="per run (at most 60)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--granian",
        action="store_true",
        help="also (f) the bare route and (g) the feed on Granian (pip install granian)",
    )
    parser.add_argument(
        "--streams",
        type=int,
        default=10_000,
        help="event streams held open on the app's worker for the rounds of (e); 0: none",
    )
    parser.add_argument(
        "--plain-mix", action="store_true", help="the 50 flags without segments or prerequisites"
    )
    args = parser.parse_args()
    seconds = min(args.seconds, MAX_DURATION_S)
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed: apt-get install -y wrk util-linux")
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("two cores are needed: one serves, one loads")
    open_files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if args.streams + 200 > open_files:
        raise SystemExit(f"ulimit -n is {open_files}: too few open files for the streams")

    with tempfile.TemporaryDirectory() as scratch:
        environment = {
            "DATABASE_URL": args.database_url or f"sqlite+aiosqlite:///{scratch}/bench.db",
            "SECRET_KEY": "bench-only-secret-key-bench-only-secret-key",
            "ENV": "development",
            "LOG_LEVEL": "WARNING",
            "FLAG_STREAM_LIMIT": str(args.streams + 100),
        }
        if args.database_url:
            print("the database's tables are replaced: use a scratch database")
            reset(environment)
        asyncio.run(prepare(environment, targeted=not args.plain_mix))
        with (
            server(shipped(free_port()), environment, FEED, stop_within_s=60) as app,
            server(bare(free_port()), environment, CEILING) as ceiling,
        ):
            bases = {"app": app.base, "ceiling": ceiling.base}
            etag = check_answers(app.base, ceiling.base)
            scenarios = ["ceiling", "feed", "not_modified", "ofrep"]
            for scenario in scenarios:
                load(bases, scenario, etag, args, 3)  # warm up
            runs: dict[str, list[Run]] = {s: [] for s in scenarios}
            for round_number in range(args.rounds):
                # Each round starts with a different scenario, so no door always runs first.
                shift = round_number % len(scenarios)
                for scenario in scenarios[shift:] + scenarios[:shift]:
                    runs[scenario].append(load(bases, scenario, etag, args, seconds))
            if args.streams:
                runs |= with_streams_open(bases, etag, args, seconds)
            if args.granian:
                runs |= on_granian_too(bases, environment, etag, args, seconds)
    report(runs, args, seconds)


def on_granian_too(
    bases: dict[str, str],
    environment: dict[str, str],
    etag: str,
    args: argparse.Namespace,
    seconds: int,
) -> dict[str, list[Run]]:
    """(f) the bare route and (g) the app's feed, each on Granian, in rounds with (a) on
    uvicorn again: is another server worth shipping?"""
    if not GRANIAN.exists():
        raise SystemExit("--granian needs Granian: pip install granian")
    runs: dict[str, list[Run]] = {
        "ceiling_granian_base": [],
        "granian_ceiling": [],
        "granian_feed": [],
    }
    with (
        server(
            on_granian(free_port(), "bench.flag_feed_ceiling:app"), environment, CEILING
        ) as bare_g,
        server(on_granian(free_port(), "app:create_app", factory=True), environment, FEED) as app_g,
    ):
        on_granian_bases = bases | {
            "granian_ceiling": bare_g.base + CEILING,
            "granian_feed": app_g.base + FEED,
        }
        for scenario in ("granian_ceiling", "granian_feed"):
            load(on_granian_bases, scenario, etag, args, 3)  # warm up
        for round_number in range(args.rounds):
            order = [
                ("ceiling_granian_base", "ceiling"),
                ("granian_ceiling", "granian_ceiling"),
                ("granian_feed", "granian_feed"),
            ]
            shift = round_number % len(order)
            for name, scenario in order[shift:] + order[:shift]:
                runs[name].append(load(on_granian_bases, scenario, etag, args, seconds))
    return runs


def with_streams_open(
    bases: dict[str, str], etag: str, args: argparse.Namespace, seconds: int
) -> dict[str, list[Run]]:
    """(e): the feed's rounds again, against a fresh ceiling each round, while the app's
    worker holds `--streams` event streams (heartbeats and all), each read by the client."""
    url = httpx.URL(
        httpx.post(bases["app"] + OFREP_BULK, json={"context": {}}).json()["eventStreams"][0]["url"]
    )
    runs: dict[str, list[Run]] = {"ceiling_streams": [], "feed_streams": []}
    with held_streams(HOST, url.port or 80, url.raw_path.decode(), args.streams) as streams:
        print(f"{len(streams):,} event streams open on the app's worker")
        load(bases, "feed", etag, args, 3)  # warm up
        for round_number in range(args.rounds):
            pair = [("ceiling_streams", "ceiling"), ("feed_streams", "feed")]
            for name, scenario in pair if round_number % 2 == 0 else pair[::-1]:
                runs[name].append(load(bases, scenario, etag, args, seconds))
        ended = sum(stream.ended for stream in streams)
    if ended:
        raise SystemExit(f"{ended} of the {args.streams:,} streams ended during the rounds")
    return runs


def reset(environment: dict[str, str]) -> None:
    async def drop() -> None:
        database = Database(load_settings(environment))
        try:
            async with database.engine.begin() as connection:
                await connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                await connection.exec_driver_sql("CREATE SCHEMA public")
        finally:
            await database.dispose()

    asyncio.run(drop())


def report(runs: dict[str, list[Run]], args: argparse.Namespace, seconds: int) -> None:
    """Medians over the rounds. Each ratio is taken within its round, against the ceiling
    measured within the same minute, then the median of those: drift between rounds cancels.
    The range shows how much the machine moved."""
    names = {
        "ceiling": "(a) bare route, uvloop + httptools",
        "feed": "(b) personalised feed",
        "not_modified": "(c) feed, 304 Not Modified",
        "ofrep": "(d) OFREP bulk",
        "ceiling_streams": "(a) again, for (e)",
        "feed_streams": f"(e) feed, {args.streams:,} streams open",
        "ceiling_granian_base": "(a) again, for (f) and (g)",
        "granian_ceiling": "(f) bare route on Granian",
        "granian_feed": "(g) personalised feed on Granian",
    }
    targets = {"feed": 0.50, "not_modified": 0.80, "ofrep": 0.45, "feed_streams": 0.40}
    ceilings = {
        name: [run.requests_per_s for run in runs[name]]
        for name in ("ceiling", "ceiling_streams", "ceiling_granian_base")
        if name in runs
    }
    print(
        f"\n{args.rounds} rounds x {seconds} s, {args.connections} connections, "
        "`serve` (1 worker) and the bare route on core 0, wrk on core 1; medians over the rounds"
    )
    header = "ratio to (a) (range)"
    print(f"| {'scenario':<36} | {'req/s':>8} | {'p99 ms':>7} | {header:>20} | target  |")
    print(f"|{'-' * 38}|{'-' * 10}|{'-' * 9}|{'-' * 22}|---------|")
    missed = []
    for scenario, scenario_runs in runs.items():
        baseline = ceilings[
            "ceiling_streams"
            if scenario.endswith("_streams")
            else "ceiling_granian_base"
            if scenario.startswith(("granian_", "ceiling_granian"))
            else "ceiling"
        ]
        ratios = [
            run.requests_per_s / ceiling
            for run, ceiling in zip(scenario_runs, baseline, strict=True)
        ]
        ratio = statistics.median(ratios)
        spread = f"{ratio:.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
        target = f">= {targets[scenario]:.2f}" if scenario in targets else ""
        if scenario in targets and ratio < targets[scenario]:
            missed.append(scenario)
        rate = statistics.median(run.requests_per_s for run in scenario_runs)
        p99 = statistics.median(run.p99_ms for run in scenario_runs)
        print(
            f"| {names[scenario]:<36} | {rate:>8,.0f} | {p99:>7.1f} | {spread:>20} | {target:<7} |"
        )
    print("all ratios meet their targets" if not missed else f"below target: {', '.join(missed)}")


if __name__ == "__main__":
    main()
