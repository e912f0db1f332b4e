"""API reads: requests/s of /api/v1/petitions/<slug> and of the widget's count endpoint,
answered from the few-second cache in front of Django (hamseda/api/fastcache.py) and,
in the same run for comparison, by Django itself.

`.venv/bin/python bench/api_reads.py --help`. It builds a fresh install with
bench/sign_load.py's machinery (SQLite data directory, the demo campaign, `hamseda
serve` with its default workers and threads on a free loopback port), warms the server
up, then drives each path with wrk (no script):

1. cached: plain GETs, as every anonymous reader and embedded widget sends them;
2. uncached: the same with `Cache-Control: no-cache`, which the cache honours by asking
   Django (and storing the fresh answer): the cost of a read without the cache;
3. revalidated: with `If-None-Match` of the current ETag (a 304 from the cache).

With --redis URL it runs the cached phase a second time with the cache's entries in
Django's cache on Redis (HAMSEDA_API_CACHE=shared) instead of each process's memory,
which is how the choice of the in-process store was made (docs/api.md, "Caching").

Load goes to 127.0.0.1 only and every phase is bounded in time. Results are printed
and written to bench/results/api_reads.json.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The sibling module, importable once its folder is on the path.
import sign_load

PETITION = f"/api/v1/petitions/{sign_load.SLUG}"
COUNT = f"{PETITION}/count"
GOAL_PER_SECOND = 2000


def wrk(server: sign_load.Server, path: str, options, seconds: int, headers=()) -> dict:
    """wrk without a script, with --wrk-threads threads: requests/s, latency, and the
    answers that were not 2xx or 3xx."""
    return sign_load.wrk_get(
        server,
        path,
        threads=options.wrk_threads,
        connections=options.connections,
        seconds=seconds,
        headers=headers,
    )


def serve(env: dict, data_dir: Path, options) -> sign_load.Server:
    server = sign_load.Server(env, data_dir, options.workers, options.threads)
    for path in (PETITION, COUNT):
        response = httpx.get(server.base + path, timeout=30)
        response.raise_for_status()
    return server


def measure(server: sign_load.Server, options, label: str, headers=()) -> list[dict]:
    runs = []
    for path in (PETITION, COUNT):
        # Warm every worker (and its entries) first, then measure.
        wrk(server, path, options, options.warmup, headers)
        run = wrk(server, path, options, options.seconds, headers)
        run.update(label=label, path=path, load_average=sign_load.loadavg())
        sign_load.log(
            f"{label:>12} {path}: {run['per_second']:.0f} req/s, p50 {run['p50']}, "
            f"p99 {run['p99']}, non-2xx/3xx {run['non_2xx_3xx']}"
        )
        runs.append(run)
    return runs


def revalidated(server: sign_load.Server, options) -> list[dict]:
    runs = []
    for path in (PETITION, COUNT):
        etag = httpx.get(server.base + path, timeout=30).headers["ETag"]
        run = wrk(server, path, options, options.seconds, [f"If-None-Match: {etag}"])
        run.update(label="304", path=path, load_average=sign_load.loadavg())
        sign_load.log(f"{'304':>12} {path}: {run['per_second']:.0f} req/s, p50 {run['p50']}")
        runs.append(run)
    return runs


# Run in a child process with the install's settings: the cost of one lookup in each
# store, for an entry the size of the petition's answer.
LOOKUP_CODE = """
import json, sys, time, django
django.setup()
from hamseda.api.fastcache import Entry, LocalStore, SharedStore
body = bytes(int(sys.argv[1]))
entry = Entry("200 OK", (("Content-Type", "application/json"), ("ETag", '"x"')), body,
              stored_at=time.time(), expires_at=time.time() + 60)
costs = {}
for name, store in (("local", LocalStore()), ("shared", SharedStore())):
    store.put("/api/v1/petitions/x", entry)
    rounds = 20000 if name == "local" else 2000
    started = time.perf_counter()
    for _ in range(rounds):
        assert store.get("/api/v1/petitions/x") is not None
    costs[name] = round((time.perf_counter() - started) / rounds * 1e6, 2)
print(json.dumps(costs))
"""


def lookup_costs(env: dict, redis_url: str, size: int) -> dict:
    """Microseconds per cache hit: in this process's dict, and in Redis."""
    done = subprocess.run(
        [sys.executable, "-c", LOOKUP_CODE, str(size)],
        env={**env, "HAMSEDA_REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "hamseda.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=sign_load.ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="per measurement")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=None, help="default: hamseda serve's")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds")
    parser.add_argument("--redis", default="", help="also the shared store, e.g. redis://…/9")
    parser.add_argument("--output", type=Path, default=sign_load.RESULTS / "api_reads.json")
    options = parser.parse_args(argv)
    if not 1 <= options.connections <= 1024 or not 1 <= options.seconds <= 120:
        parser.error("--connections 1-1024, --seconds 1-120")
    if options.workers is None:
        options.workers = os.cpu_count() or 1
    return options


def main(argv=None) -> int:
    options = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk; `make system-deps`).")
        return 2
    work_dir = Path(tempfile.mkdtemp(prefix="hamseda-bench-api-"))
    started = datetime.now(UTC)
    data_dir = work_dir / "sqlite"
    data_dir.mkdir(parents=True)
    (data_dir / "mailbox").mkdir()
    env = sign_load.base_env(data_dir)
    runs: list[dict] = []
    lookups: dict = {}
    errors = 0
    server = None
    try:
        sign_load.log(f"demo --no-serve in {data_dir}")
        subprocess.run(
            [str(sign_load.HAMSEDA), "demo", "--no-serve"],
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        server = serve({**env, "HAMSEDA_API_CACHE": "local"}, data_dir, options)
        sign_load.log(
            f"serving on {server.base} ({options.workers} workers × {options.threads} threads)"
        )
        runs += measure(server, options, "cached")
        runs += measure(server, options, "uncached", ["Cache-Control: no-cache"])
        runs += revalidated(server, options)
        errors += server.errors_logged()
        size = len(httpx.get(server.base + PETITION, timeout=30).content)
        server.stop()
        server = None
        if options.redis:
            lookups = lookup_costs(env, options.redis, size)
            sign_load.log(
                f"one hit of a {size}-byte answer: {lookups['local']} µs in the process's "
                f"dict, {lookups['shared']} µs in Redis"
            )
            shared = {**env, "HAMSEDA_API_CACHE": "shared", "HAMSEDA_REDIS_URL": options.redis}
            server = serve(shared, data_dir, options)
            runs += measure(server, options, "cached-redis")
            errors += server.errors_logged()
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work_dir, ignore_errors=True)
    result = {
        "started": started.isoformat(timespec="seconds"),
        "machine": sign_load.machine(),
        "options": {
            "seconds": options.seconds,
            "connections": options.connections,
            "wrk_threads": options.wrk_threads,
            "workers": options.workers,
            "threads": options.threads,
            "database": "sqlite",
        },
        "goal_per_second": GOAL_PER_SECOND,
        "runs": runs,
        "lookup_microseconds": lookups,
        "server_errors_logged": errors,
    }
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(result, indent=2) + "\n")
    print("\n| path | answered | req/s | p50 | p99 | load average |")
    print("| --- | --- | --- | --- | --- | --- |")
    for run in runs:
        print(
            f"| {run['path']} | {run['label']} | {run['per_second']:.0f} "
            f"| {run['p50']} | {run['p99']} | {run['load_average']:.1f} |"
        )
    best = next(r for r in runs if r["label"] == "cached" and r["path"] == PETITION)
    verdict = "meets" if best["per_second"] >= GOAL_PER_SECOND else "misses"
    print(f"\n{PETITION} from cache {verdict} the goal of {GOAL_PER_SECOND} req/s.")
    print(f"Server errors logged: {errors}. Written to {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
