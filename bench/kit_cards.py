"""Kit card requests: how many link previews per second a real server answers from the
cache, and what one cold render costs over HTTP.

`.venv/bin/python bench/kit_cards.py --help`. It builds a fresh install with
bench/sign_load.py's machinery (SQLite data directory, the demo petition, `hamseda
serve` on a free loopback port), then:

1. cold: asks for each size of the petition's image once, in each language, timing
   every request. Each is the first of its kind for the server, so it renders (as a
   link-preview fetcher that finds a new petition would see it);
2. warm: wrk fetches the link card (/p/<slug>/kit/card.png, 1200 × 630) at each
   concurrency: cache hits, the load of a viral share;
3. revalidation: the same with `If-None-Match` (a 304 without the image).

Without --redis each of the server's worker processes keeps its own cache (locmem),
so the first request per worker renders; wrk's warm-up takes care of that. With
--redis the workers share one cache, as in production.

Load goes to 127.0.0.1 only and every phase is bounded in time. Results are printed
and written to bench/results/kit_cards.json.
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The sibling module, importable once its folder is on the path.
import sign_load

SIZES = ["card", "square", "portrait", "story", "x", "banner"]
LANGUAGES = ["en", "fa", "ps"]
CARD = f"/p/{sign_load.SLUG}/kit/card.png"
GOAL_CARDS_PER_SECOND = 1000


def image_path(size: str, language: str) -> str:
    prefix = "" if language == "en" else f"/{language}"
    return f"{prefix}/p/{sign_load.SLUG}/kit/{size}.png"


def cold_renders(server: sign_load.Server) -> dict:
    """Each size in each language once: every request renders (a cache miss)."""
    timings = {}
    with httpx.Client(base_url=server.base, timeout=60) as client:
        for language in LANGUAGES:
            for size in SIZES:
                started = time.perf_counter()
                response = client.get(image_path(size, language))
                elapsed = time.perf_counter() - started
                response.raise_for_status()
                timings[f"{size}-{language}"] = {
                    "ms": round(1000 * elapsed, 1),
                    "bytes": len(response.content),
                }
    card_ms = [timings[f"card-{language}"]["ms"] for language in LANGUAGES]
    all_ms = [value["ms"] for value in timings.values()]
    return {
        "requests": timings,
        # The very first request of a fresh process also imports the renderers and
        # loads the fonts; the other languages' cards show the steady cost of a miss.
        "card_first_ms": card_ms[0],
        "card_median_ms": statistics.median(card_ms),
        "all_median_ms": statistics.median(all_ms),
        "all_max_ms": max(all_ms),
    }


def wrk(server: sign_load.Server, path: str, concurrency: int, seconds: int, headers=()):
    """wrk without a script: requests/s, latency and non-2xx/3xx answers."""
    run = sign_load.wrk_get(
        server,
        path,
        threads=min(4, concurrency),
        connections=concurrency,
        seconds=seconds,
        headers=headers,
    )
    return {"concurrency": concurrency, "seconds": seconds, **run}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="per concurrency")
    parser.add_argument("--concurrency", default="16,64", help="comma-separated")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds")
    parser.add_argument("--redis", default="", help="e.g. redis://127.0.0.1:6379/14")
    parser.add_argument("--output", type=Path, default=sign_load.RESULTS / "kit_cards.json")
    options = parser.parse_args(argv)
    options.concurrency = [int(c) for c in options.concurrency.split(",") if c.strip()]
    if not all(1 <= c <= 1024 for c in options.concurrency) or not 1 <= options.seconds <= 600:
        parser.error("--concurrency 1-1024, --seconds 1-600")
    return options


def main(argv=None) -> int:
    options = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk; `make system-deps`).")
        return 2
    work_dir = Path(tempfile.mkdtemp(prefix="hamseda-bench-kit-"))
    started = datetime.now(UTC)
    data_dir = work_dir / "sqlite"
    data_dir.mkdir(parents=True)
    (data_dir / "mailbox").mkdir()
    env = sign_load.base_env(data_dir)
    if options.redis:
        env["HAMSEDA_REDIS_URL"] = options.redis
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
        server = sign_load.Server(env, data_dir, options.workers, options.threads)
        sign_load.log(f"serving on {server.base}; cold renders of every size and language")
        cold = cold_renders(server)
        sign_load.log(
            f"cold card: first {cold['card_first_ms']} ms, median {cold['card_median_ms']} ms; "
            f"all sizes median {cold['all_median_ms']} ms"
        )
        etag = httpx.get(server.base + CARD, timeout=30).headers["ETag"]
        wrk(server, CARD, max(options.concurrency), options.warmup)  # Every worker's cache.
        cached, revalidated = [], []
        for concurrency in options.concurrency:
            run = wrk(server, CARD, concurrency, options.seconds)
            sign_load.log(
                f"card from cache, c={concurrency}: {run['per_second']:.0f} req/s, "
                f"p50 {run['p50']}, p99 {run['p99']}, errors {run['non_2xx_3xx']}"
            )
            cached.append(run)
            run = wrk(server, CARD, concurrency, options.seconds, [f"If-None-Match: {etag}"])
            sign_load.log(
                f"card 304, c={concurrency}: {run['per_second']:.0f} req/s, p50 {run['p50']}"
            )
            revalidated.append(run)
        errors = server.errors_logged()
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work_dir, ignore_errors=True)
    result = {
        "started": started.isoformat(timespec="seconds"),
        "machine": sign_load.machine(),
        "options": {
            "seconds": options.seconds,
            "concurrency": options.concurrency,
            "workers": options.workers,
            "threads": options.threads,
            "cache": "redis" if options.redis else "locmem (per process)",
        },
        "path": CARD,
        "goal_cards_per_second": GOAL_CARDS_PER_SECOND,
        "cold": cold,
        "cached": cached,
        "not_modified": revalidated,
        "server_errors_logged": errors,
    }
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(result, indent=2) + "\n")
    print("\n| request | concurrency | req/s | p50 | p99 |")
    print("| --- | --- | --- | --- | --- |")
    for label, runs in (("card (cache hit)", cached), ("card 304", revalidated)):
        for run in runs:
            print(
                f"| {label} | {run['concurrency']} | {run['per_second']:.0f} "
                f"| {run['p50']} | {run['p99']} |"
            )
    print(
        f"\nCold card over HTTP: {cold['card_median_ms']} ms (median of the three "
        f"languages; the first request of the process {cold['card_first_ms']} ms)."
    )
    print(f"Written to {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
