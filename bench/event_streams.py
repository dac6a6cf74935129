"""Holding many OFREP event streams on one worker: memory per stream and fan-out time.

Starts the shipped server (`swipesavvy-admin serve`, one worker process) on a scratch
database with 50 flags, opens N event streams to it from this process (raw sockets, so the
client stays small), and reports:

- the server's resident memory before and after, and per open stream;
- after one flag change, how long until every stream has its `refetchEvaluation` event
  (median, p99 and last), with some streams whose clients never read at all;
- that the feed still answers while they are open.

    python bench/event_streams.py --streams 10000
    python bench/event_streams.py --streams 10000 --database-url postgresql+asyncpg://postgres@127.0.0.1/bench_streams

Loopback only; every wait is bounded. Needs `ulimit -n` above the number of streams.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.flag_feed import (  # noqa: E402
    FEED,
    HOST,
    OFREP_BULK,
    free_port,
    prepare,
    reset,
    server,
    shipped,
)
from bench.streams_client import Listener, open_all  # noqa: E402
from core.database import Database  # noqa: E402
from core.settings import load_settings  # noqa: E402
from flags import revision as _bumps_the_flags_revision  # noqa: E402, F401
from models import FeatureFlag  # noqa: E402

FAN_OUT_TIMEOUT_S = 30


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def change_a_flag(environment: dict[str, str]) -> None:
    database = Database(load_settings(environment))
    try:
        async with database.session() as db, db.begin():
            flag = await db.scalar(sa.select(FeatureFlag).where(FeatureFlag.key == "feature-00"))
            flag.enabled = not flag.enabled
            flag.revision += 1
    finally:
        await database.dispose()


async def run(args: argparse.Namespace, environment: dict[str, str], base: str, pid: int) -> None:
    port = int(base.rsplit(":", 1)[1])
    async with httpx.AsyncClient(base_url=base) as client:
        answer = await client.post(OFREP_BULK, json={"context": {"targetingKey": "u"}})
    bulk = answer.json()
    url = httpx.URL(bulk["eventStreams"][0]["url"])
    path = f"{url.raw_path.decode()}"
    before = rss_kib(pid)
    listeners = [Listener(HOST, port, path, reads=True) for _ in range(args.streams)]
    stalled = [Listener(HOST, port, path, reads=False) for _ in range(args.stalled)]
    began = time.monotonic()
    await open_all(listeners + stalled)
    opened_s = time.monotonic() - began
    await asyncio.sleep(2)
    after = rss_kib(pid)
    per_stream = (after - before) * 1024 / max(args.streams + args.stalled, 1)
    print(
        f"opened {args.streams:,} streams (+{args.stalled} that never read) in {opened_s:.1f} s; "
        f"server RSS {before / 1024:.0f} MiB -> {after / 1024:.0f} MiB: "
        f"{per_stream / 1024:.1f} KiB per stream"
    )
    async with httpx.AsyncClient(base_url=base) as client:
        feed = await client.get(FEED, params={"user_id": "u1"})
    print(f"feed with the streams open: {feed.status_code}")

    waiting = [asyncio.create_task(s.until_message()) for s in listeners]
    await change_a_flag(environment)
    changed = time.monotonic()
    _done, pending = await asyncio.wait(waiting, timeout=FAN_OUT_TIMEOUT_S)
    for task in pending:
        task.cancel()
    delays = sorted(s.heard_at - changed for s in listeners if s.heard_at is not None)
    if delays:
        p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
        print(
            f"one change reached {len(delays):,} of {args.streams:,} streams: "
            f"median {statistics.median(delays) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"last {delays[-1] * 1000:.0f} ms"
        )
    else:
        print("no stream heard of the change")
    for stream in listeners + stalled:
        stream.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--stalled", type=int, default=100, help="streams that never read")
    args = parser.parse_args()
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if args.streams + args.stalled + 100 > limit:
        raise SystemExit(f"ulimit -n is {limit}: too few open files for {args.streams} streams")
    with tempfile.TemporaryDirectory() as scratch:
        environment = {
            "DATABASE_URL": args.database_url or f"sqlite+aiosqlite:///{scratch}/bench.db",
            "SECRET_KEY": "bench-only-secret-key-bench-only-secret-key",
            "ENV": "development",
            "LOG_LEVEL": "WARNING",
            "FLAG_STREAM_LIMIT": str(args.streams + args.stalled + 10),
        }
        if args.database_url:
            print("the database's tables are replaced: use a scratch database")
            reset(environment)
        asyncio.run(prepare(environment))
        # Closing thousands of streams takes the server a while.
        with server(shipped(free_port()), environment, "/healthz", stop_within_s=60) as app:
            asyncio.run(run(args, environment, app.base, app.pid))


if __name__ == "__main__":
    main()
