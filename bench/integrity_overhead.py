"""What the integrity checks cost: sign throughput with them on and off, in one run.

`make bench` runs it after bench/sign_load.py; or `.venv/bin/python
bench/integrity_overhead.py --help`. For each database (SQLite, PostgreSQL) it builds
one fresh install (bench/sign_load.py's machinery: demo petition, `hamseda serve` on
loopback, wrk driving POST /p/<slug>/sign with a new address per request) and signs
alternately with HAMSEDA_INTEGRITY=0 and =1, restarting the server between phases, so
both see the same database, machine and load. With the checks on, every one of them
runs for every request (honeypot, fill-time stamp absent, disposable lookup, the
sliding-window counters, the mail counter) with the default rules: wrk signs like a real
crowd (sign_load.lua: a network address per signer, three in five at a big provider,
the rest on many small domains), so every request is accepted and the two phases do
the same work otherwise. The goal: the checks cost at most 15% of throughput.

Results are printed and written to bench/results/integrity.json; docs/performance.md
and docs/integrity.md discuss them.
"""

import argparse
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The sibling module, importable once its folder is on the path.
import sign_load

GOAL_MAX_COST = 0.15


def phase(kind, env, data_dir, options, integrity: bool) -> dict:
    env = {
        **env,
        "HAMSEDA_INTEGRITY": "1" if integrity else "0",
    }
    server = sign_load.Server(env, data_dir, options.workers, options.threads)
    try:
        cookie, token = server.csrf_pair()
        sign_load.run_wrk(server, cookie, token, options.concurrency, options.warmup, "warm")
        tag = f"{kind}{'on' if integrity else 'off'}{secrets.token_hex(3)}"
        run = sign_load.run_wrk(server, cookie, token, options.concurrency, options.seconds, tag)
        errors = server.errors_logged()
    finally:
        server.stop()
    run.pop("wrk_cpu_seconds", None)
    run.update(integrity=integrity, server_errors_logged=errors)
    state = "on " if integrity else "off"
    sign_load.log(
        f"{kind} checks {state}: {run['signs_per_second']} signs/s, p50 {run['p50_ms']} ms, "
        f"p99 {run['p99_ms']} ms, non-2xx {run['non_2xx']}"
    )
    return run


def bench_database(kind: str, options, work_dir: Path) -> dict:
    data_dir = work_dir / kind
    data_dir.mkdir(parents=True)
    (data_dir / "mailbox").mkdir()
    db = (
        sign_load.SQLiteDatabase(data_dir)
        if kind == "sqlite"
        else sign_load.PostgresDatabase(options.postgres)
    )
    env = {**sign_load.base_env(data_dir), **db.env()}
    if options.redis:
        # Both phases with Redis (cache, and with the checks on, the limit counters).
        env["HAMSEDA_REDIS_URL"] = options.redis
    report = {
        "database": kind,
        "version": db.version(),
        "limits_in": "redis" if options.redis else "database",
        "phases": [],
    }
    try:
        sign_load.log(f"{kind}: demo --no-serve in {data_dir}")
        subprocess.run(
            [str(sign_load.HAMSEDA), "demo", "--no-serve"],
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        # Balanced order (off on, on off, off on …): the database grows and the machine
        # drifts during a run, and a fixed order would charge that drift to whichever
        # phase always comes second.
        for number in range(options.rounds):
            order = (False, True) if number % 2 == 0 else (True, False)
            for integrity in order:
                report["phases"].append(phase(kind, env, data_dir, options, integrity))
    finally:
        db.drop()
    off = [p["signs_per_second"] for p in report["phases"] if not p["integrity"]]
    on = [p["signs_per_second"] for p in report["phases"] if p["integrity"]]
    report["off_signs_per_second"] = round(sum(off) / len(off), 1)
    report["on_signs_per_second"] = round(sum(on) / len(on), 1)
    report["cost"] = round(1 - report["on_signs_per_second"] / report["off_signs_per_second"], 3)
    return report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="signing time per phase")
    parser.add_argument("--concurrency", type=int, default=16, help="connections (default 16)")
    parser.add_argument(
        "--rounds", type=int, default=4, help="off/on pairs per database (alternating order)"
    )
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per phase")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--redis", default="", help="e.g. redis://127.0.0.1:6379/14: limits in Redis"
    )
    parser.add_argument("--output", type=Path, default=sign_load.RESULTS / "integrity.json")
    options = parser.parse_args(argv)
    options.databases = [d.strip() for d in options.databases.split(",") if d.strip()]
    if not 1 <= options.concurrency <= 256 or not 1 <= options.seconds <= 600:
        parser.error("--concurrency 1-256, --seconds 1-600")
    return options


def main(argv=None) -> int:
    options = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk; `make system-deps`).")
        return 2
    work_dir = Path(tempfile.mkdtemp(prefix="hamseda-bench-integrity-"))
    started = datetime.now(UTC)
    try:
        reports = [bench_database(kind, options, work_dir) for kind in options.databases]
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    result = {
        "started": started.isoformat(timespec="seconds"),
        "machine": sign_load.machine(),
        "options": {
            key: getattr(options, key)
            for key in ("seconds", "concurrency", "rounds", "workers", "threads", "warmup")
        },
        "goal_max_cost": GOAL_MAX_COST,
        "databases": reports,
    }
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(result, indent=2) + "\n")
    print("\n| database | limits in | checks off signs/s | checks on signs/s | cost | within 15% |")
    print("| --- | --- | --- | --- | --- | --- |")
    for report in reports:
        ok = "yes" if report["cost"] <= GOAL_MAX_COST else "**no**"
        print(
            f"| {report['database']} | {report['limits_in']} "
            f"| {report['off_signs_per_second']:.0f} "
            f"| {report['on_signs_per_second']:.0f} | {100 * report['cost']:.1f}% | {ok} |"
        )
    print(f"\nWritten to {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
