"""CPU time per request of each flag door, in-process: the app's own cost, without a server.

Calls the ASGI app directly (no sockets, no HTTP parsing) N times per door and divides the
process's CPU time (user + system, so other tenants' load moves it little) by N. The bare
route of `bench/flag_feed_ceiling.py` is measured alike in the same run. This is what the
changes listed in bench/README.md were judged by; `bench/flag_feed.py` measures the same
doors through the shipped server under load.

    python bench/flag_doors_cpu.py                 # 20,000 requests per door
    python bench/flag_doors_cpu.py --requests 50000 --profile feed
    python bench/flag_doors_cpu.py --plain-mix     # the flags without segments or prerequisites
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.flag_feed import FEED, NOT_MODIFIED_QUERY, OFREP_BULK, prepare  # noqa: E402
from bench.flag_feed_ceiling import CEILING_PATH  # noqa: E402
from bench.flag_feed_ceiling import app as bare_app  # noqa: E402

PLATFORMS = ("ios", "android", "web")
COUNTRIES = ("US", "GB", "DE", "FR", "NG")
WARM_UP = 500
Asked = tuple[dict[str, Any], bytes]


def scope(path: str, query: bytes = b"", method: str = "GET", headers: Any = ()) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1", "method": method, "scheme": "http", "path": path,
        "raw_path": path.encode(), "query_string": query, "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip


def feed(n: int) -> Asked:
    query = (
        f"user_id=user-{n}&platform={PLATFORMS[n % 3]}&app_version=4.{n % 12}.0"
        f"&attr.country={COUNTRIES[n % 5]}"
    )
    return scope(FEED, query.encode()), b""


def ofrep(n: int) -> Asked:
    body = (
        f'{{"context": {{"targetingKey": "user-{n}", "platform": "{PLATFORMS[n % 3]}", '
        f'"appVersion": "4.{n % 12}.0", "country": "{COUNTRIES[n % 5]}"}}}}'
    )
    headers = [(b"content-type", b"application/json")]
    return scope(OFREP_BULK, method="POST", headers=headers), body.encode()


async def cpu_us_per_request(
    app: Any, asked: Callable[[int], Asked], requests: int, expect: int, profile: bool
) -> float:
    statuses: set[int] = set()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    async def one(n: int) -> None:
        request_scope, body = asked(n)

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        await app(request_scope, receive, send)
        # As a server does between requests: the flags' refresh loop gets its turn, or the
        # snapshot would read as stale partway through and change the answers.
        await asyncio.sleep(0)

    for n in range(WARM_UP):
        await one(n)
    profiler = cProfile.Profile() if profile else None
    began = time.process_time()
    if profiler:
        profiler.enable()
    for n in range(requests):
        await one(n)
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    took = time.process_time() - began
    if statuses != {expect}:
        raise SystemExit(f"expected only {expect}, got {sorted(statuses)}")
    return took / requests * 1e6


async def run(args: argparse.Namespace, scratch: str) -> dict[str, float]:
    environment = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{scratch}/bench.db",
        "SECRET_KEY": "bench-only-secret-key-bench-only-secret-key",
        "ENV": "development",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(environment)
    await prepare(environment, targeted=not args.plain_mix)
    from app import create_app

    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
            etag = (await c.get(FEED + NOT_MODIFIED_QUERY)).headers["etag"]
        revalidate = [(b"if-none-match", etag.encode())]
        doors: dict[str, tuple[Any, Callable[[int], Asked], int]] = {
            "bare route": (bare_app, lambda n: (scope(CEILING_PATH), b""), 200),
            "feed": (app, feed, 200),
            "feed 304": (
                app,
                lambda n: (scope(FEED, NOT_MODIFIED_QUERY[1:].encode(), headers=revalidate), b""),
                304,
            ),
            "OFREP bulk": (app, ofrep, 200),
        }
        return {
            name: await cpu_us_per_request(
                target, asked, args.requests, expect, profile=args.profile == name
            )
            for name, (target, asked, expect) in doors.items()
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--profile", help="print a cProfile of one door (e.g. feed)")
    parser.add_argument(
        "--plain-mix", action="store_true", help="the 50 flags without segments or prerequisites"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        figures = asyncio.run(run(args, scratch))
    bare = figures["bare route"]
    mix = "without" if args.plain_mix else "with"
    print(f"\n{args.requests:,} requests per door, in-process, CPU time per request")
    print(f"50 flags {mix} segments and prerequisites")
    print("| door | CPU us per request | x the bare route |")
    print("|---|---:|---:|")
    for name, us in figures.items():
        print(f"| {name} | {us:.1f} | {us / bare:.2f} |")


if __name__ == "__main__":
    main()
