"""Signing load benchmark: `make bench`, or `.venv/bin/python bench/sign_load.py --help`.

For each database (SQLite, PostgreSQL) it builds a fresh install (data directory, and a
fresh PostgreSQL database), loads the demo petition, starts `hamseda serve` on a free
loopback port, and drives POST /p/<slug>/sign with wrk at each concurrency: every
request signs with a new e-mail address (bench/sign_load.lua). It reports accepted
signs/s, p50/p99 latency, errors, and afterwards compares the rows written (signatures,
outbound mails, task rows) with the 2xx answers: they must be equal.

In the same run it measures the reference: the raw rate of single-row INSERT
transactions on the same database at the same concurrency, from Python threads, with
the same settings the app uses (SQLite: WAL, synchronous=NORMAL, BEGIN IMMEDIATE).

Load goes to 127.0.0.1 only and every phase is bounded in time. Results are printed and
written to bench/results/latest.json; docs/performance.md discusses them.
"""

import argparse
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
LUA = BENCH / "sign_load.lua"
HAMSEDA = ROOT / ".venv" / "bin" / "hamseda"
SLUG = "suspend-taliban-accounts"
SIGN_PATH = f"/p/{SLUG}/sign"
PORTS = range(18000, 18101)
# Tables whose rows one accepted signature adds, one each, in one transaction (the
# outbox row is the mail's queue entry).
COUNTED = {
    "signatures": "petitions_signature",
    "mails": "mail_outboundmessage",
}
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
    "PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON;"
)
GOAL_SIGNS = 500
GOAL_RAW_RATIO = 0.5


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the machine ----------------------------------------------------------------------


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = Path("/proc/meminfo").read_text()
    mem_kb = int(re.search(r"^MemTotal:\s*(\d+)", meminfo, re.M).group(1))
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu_model": model.group(1).strip() if model else "unknown",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": (wrk.stdout + wrk.stderr).split("Copyright")[0].strip(),
    }


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


class CpuMeter:
    """CPU seconds used between start() and stop(): by the server's processes, by wrk,
    by PostgreSQL (its shared processes and the backends of our database), and by
    everything else on the machine (other people's work)."""

    def __init__(self, server_pid: int, dbname: str | None):
        self.server_pid = server_pid
        self.dbname = dbname
        self.tick = os.sysconf("SC_CLK_TCK")

    def _ours_postgres(self, pid: int) -> bool:
        """A PostgreSQL process working for this benchmark: a backend of our database,
        or a shared one (WAL writer, checkpointer…), not another database's backend."""
        try:
            title = (Path("/proc") / str(pid) / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return False
        is_backend = "(" in title or "[local]" in title
        return not is_backend or (self.dbname is not None and f" {self.dbname} " in title)

    def _snapshot(self) -> dict[int, tuple[str, str, int]]:
        snap = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            comm = raw[raw.index("(") + 1 : raw.rindex(")")]
            fields = raw[raw.rindex(")") + 2 :].split()
            # Fields 14 and 15 of stat (utime, stime); fields[0] here is field 3.
            snap[int(entry.name)] = (comm, fields[1], (int(fields[11]) + int(fields[12])))
        return snap

    @staticmethod
    def _machine_busy() -> tuple[int, int]:
        # user nice system idle iowait irq softirq steal (guest time is inside user).
        line = Path("/proc/stat").read_text().split("\n")[0]
        values = [int(v) for v in line.split()[1:9]]
        idle = values[3] + values[4]
        return sum(values) - idle, sum(values)

    def start(self) -> None:
        self.before = self._snapshot()
        self.busy_before = self._machine_busy()
        self.started = time.monotonic()

    def stop(self, wrk_cpu: float) -> dict:
        after = self._snapshot()
        busy_after = self._machine_busy()
        wall = time.monotonic() - self.started
        groups = {"server": 0.0, "postgres": 0.0}
        for pid, (comm, ppid, ticks) in after.items():
            used = (ticks - self.before.get(pid, (comm, ppid, 0))[2]) / self.tick
            if pid == self.server_pid or int(ppid) == self.server_pid:
                groups["server"] += used
            elif comm.startswith("postgres") and self._ours_postgres(pid):
                groups["postgres"] += used
        busy = (busy_after[0] - self.busy_before[0]) / self.tick
        total = (busy_after[1] - self.busy_before[1]) / self.tick
        # wrk has ended by now: its CPU time comes from getrusage of our children.
        # Other processes that ended during the run count under "other".
        groups["wrk"] = wrk_cpu
        groups["other"] = max(0.0, busy - sum(groups.values()))
        return {
            "wall_seconds": round(wall, 2),
            "machine_busy_percent": round(100 * busy / total, 1) if total else None,
            "cpu_seconds": {key: round(value, 2) for key, value in groups.items()},
        }


# --- databases ------------------------------------------------------------------------


class Database:
    """A fresh database for one benchmark: its URL for the app, counting, raw inserts."""

    name = ""

    def env(self) -> dict:
        raise NotImplementedError

    def connect(self):
        raise NotImplementedError

    def count_rows(self) -> dict:
        with self.connect() as conn:
            return {
                key: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                for key, table in COUNTED.items()
            }

    def version(self) -> str:
        raise NotImplementedError

    def drop(self) -> None:
        pass


class SQLiteDatabase(Database):
    name = "sqlite"

    def __init__(self, data_dir: Path):
        self.path = data_dir / "hamseda.sqlite3"

    def env(self) -> dict:
        return {}

    def connect(self):
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.executescript(SQLITE_PRAGMAS)
        return _Closing(conn)

    def version(self) -> str:
        return sqlite3.sqlite_version

    def settings(self) -> dict:
        return {"journal_mode": "wal", "synchronous": "NORMAL", "transaction": "IMMEDIATE"}

    def raw_worker(self, stop_at: float, latencies: list[float]) -> None:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.executescript(SQLITE_PRAGMAS)
        try:
            while (start := time.monotonic()) < stop_at:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "INSERT INTO bench_raw_insert (payload, created_at) VALUES (?, ?)",
                    (secrets.token_hex(16), time.time()),
                )
                conn.execute("COMMIT")
                latencies.append(time.monotonic() - start)
        finally:
            conn.close()

    def create_scratch(self) -> None:
        with self.connect() as conn:
            conn.execute("DROP TABLE IF EXISTS bench_raw_insert")
            conn.execute(
                "CREATE TABLE bench_raw_insert (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "payload TEXT NOT NULL, created_at REAL NOT NULL)"
            )

    def drop_scratch(self) -> None:
        with self.connect() as conn:
            conn.execute("DROP TABLE IF EXISTS bench_raw_insert")


class _Closing:
    """sqlite3's connection as a context manager that closes (it only commits)."""

    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        return self.conn

    def __exit__(self, *exc):
        self.conn.close()


class PostgresDatabase(Database):
    name = "postgres"

    def __init__(self, server_url: str):
        self.server_url = server_url.rstrip("/")
        self.dbname = f"hamseda_bench_{os.getpid()}"
        self.url = f"{self.server_url}/{self.dbname}"
        with psycopg.connect(f"{self.server_url}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.dbname}"')
            conn.execute(f'CREATE DATABASE "{self.dbname}"')

    def env(self) -> dict:
        return {"HAMSEDA_DATABASE_URL": self.url}

    def connect(self):
        return psycopg.connect(self.url, autocommit=True)

    def version(self) -> str:
        with self.connect() as conn:
            return conn.execute("SHOW server_version").fetchone()[0]

    def settings(self) -> dict:
        names = ["synchronous_commit", "fsync", "wal_sync_method", "shared_buffers"]
        names += ["max_connections", "commit_delay"]
        with self.connect() as conn:
            return {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in names}

    def raw_worker(self, stop_at: float, latencies: list[float]) -> None:
        with psycopg.connect(self.url) as conn:
            while (start := time.monotonic()) < stop_at:
                conn.execute(
                    "INSERT INTO bench_raw_insert (payload, created_at) VALUES (%s, now())",
                    (secrets.token_hex(16),),
                )
                conn.commit()
                latencies.append(time.monotonic() - start)

    def create_scratch(self) -> None:
        with self.connect() as conn:
            conn.execute("DROP TABLE IF EXISTS bench_raw_insert")
            conn.execute(
                "CREATE TABLE bench_raw_insert (id bigserial PRIMARY KEY, "
                "payload text NOT NULL, created_at timestamptz NOT NULL)"
            )

    def drop_scratch(self) -> None:
        with self.connect() as conn:
            conn.execute("DROP TABLE IF EXISTS bench_raw_insert")

    def drop(self) -> None:
        with psycopg.connect(f"{self.server_url}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')


def raw_insert_rate(db: Database, concurrency: int, seconds: float) -> dict:
    """Single-row INSERT + COMMIT transactions per second from `concurrency` threads."""
    db.create_scratch()
    try:
        latencies: list[list[float]] = [[] for _ in range(concurrency)]
        stop_at = time.monotonic() + seconds
        threads = [
            threading.Thread(target=db.raw_worker, args=(stop_at, latencies[i]))
            for i in range(concurrency)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 60)
        elapsed = time.monotonic() - started
        samples = sorted(x for per_thread in latencies for x in per_thread)
    finally:
        db.drop_scratch()
    return {
        "transactions": len(samples),
        "seconds": round(elapsed, 2),
        "per_second": round(len(samples) / elapsed, 1),
        "p50_ms": round(percentile(samples, 50) * 1000, 2),
        "p99_ms": round(percentile(samples, 99) * 1000, 2),
    }


def percentile(sorted_values: list, pct: float):
    if not sorted_values:
        return float("nan")
    rank = max(1, round(pct / 100 * len(sorted_values) + 0.5 - 1e-9))
    return sorted_values[min(rank, len(sorted_values)) - 1]


# --- the server -----------------------------------------------------------------------


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


class Server:
    """`hamseda serve` as a subprocess in its own process group."""

    def __init__(self, env: dict, data_dir: Path, workers: int, threads: int):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # wrk names each signer's address in X-Forwarded-For (sign_load.lua), as a
        # reverse proxy would: the integrity limits then see a crowd, not one client.
        env = {**env, "HAMSEDA_BASE_URL": self.base, "HAMSEDA_TRUSTED_PROXIES": "127.0.0.1"}
        self.log_path = data_dir / "serve.log"
        self.log_file = self.log_path.open("w")
        command = [str(HAMSEDA), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--workers", str(workers), "--threads", str(threads)]
        self.process = subprocess.Popen(
            command,
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hamseda serve exited; see {self.log_path}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"hamseda serve did not answer within 60 s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log_file.close()

    def csrf_pair(self) -> tuple[str, str]:
        """The csrftoken cookie and a form token for it; both stay valid for any POST."""
        response = httpx.get(f"{self.base}/p/{SLUG}/", timeout=10)
        response.raise_for_status()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
        return response.cookies["csrftoken"], token.group(1)

    def errors_logged(self) -> int:
        text = self.log_path.read_text(errors="replace")
        return text.count("Traceback") + text.count("[CRITICAL]")


def wrk_get(
    server: Server, path: str, *, threads: int, connections: int, seconds: float, headers=()
) -> dict:
    """GET `path` with wrk (no script) for `seconds`: requests/s, latency percentiles,
    transfer rate and the answers that were not 2xx or 3xx (kit cards, API reads)."""
    command = ["wrk", "-t", str(threads), "-c", str(connections)]
    command += ["-d", f"{seconds}s", "--latency", "--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    done = subprocess.run(
        [*command, server.base + path],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    text = done.stdout
    latency = {
        line.split()[0]: line.split()[1]
        for line in text.splitlines()
        if line.strip().startswith(("50%", "90%", "99%"))
    }
    transfer = text.split("Transfer/sec:")[1].split()[0] if "Transfer/sec:" in text else None
    errors = 0
    if "Non-2xx or 3xx responses:" in text:
        errors = int(text.split("Non-2xx or 3xx responses:")[1].split()[0])
    return {
        "per_second": float(text.split("Requests/sec:")[1].split()[0]),
        "p50": latency.get("50%"),
        "p90": latency.get("90%"),
        "p99": latency.get("99%"),
        "transfer_per_second": transfer,
        "non_2xx_3xx": errors,
        "socket_errors": "Socket errors" in text,
    }


def run_wrk(server: Server, cookie: str, token: str, concurrency: int, seconds: float, tag: str):
    """Sign for `seconds` at `concurrency`. wrk runs a grace period longer, in which the
    last signatures are answered and no new request starts (see sign_load.lua)."""
    grace = 5
    out = Path(tempfile.mkstemp(prefix="hamseda-wrk-", suffix=".json")[1])
    try:
        command = ["wrk", "-t", str(concurrency), "-c", str(concurrency)]
        command += ["-d", f"{seconds + grace}s", "--timeout", "20s", "-s", str(LUA)]
        command += [server.base, "--", SIGN_PATH, cookie, token, tag, str(seconds)]
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            command,
            env={**os.environ, "HAMSEDA_BENCH_OUT": str(out)},
            capture_output=True,
            text=True,
            timeout=seconds + grace + 60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
    samples = sorted(us for per_thread in result.pop("threads") for us in per_thread)
    statuses = {int(code): n for code, n in result["statuses"].items()}
    ok = sum(n for code, n in statuses.items() if 200 <= code < 300)
    # wrk calls request() once more on its first thread to check the script (its
    # script_verify_request), so one "sent" sign request never left.
    unanswered = max(0, result["sent"] - 1 - result["answered"])
    return {
        "signs_per_second": round(result["in_window_2xx"] / seconds, 1),
        "answered_2xx": ok,
        "answered": result["answered"],
        "unanswered": unanswered,
        "statuses": dict(sorted(statuses.items())),
        "non_2xx": result["answered"] - ok,
        "socket_errors": result["socket_errors"],
        "p50_ms": round(percentile(samples, 50) / 1000, 1),
        "p90_ms": round(percentile(samples, 90) / 1000, 1),
        "p99_ms": round(percentile(samples, 99) / 1000, 1),
        "max_ms": round(samples[-1] / 1000, 1) if samples else None,
        "wrk_cpu_seconds": round(
            children_after.ru_utime
            + children_after.ru_stime
            - children_before.ru_utime
            - children_before.ru_stime,
            2,
        ),
    }


def read_page_rate(server: Server, concurrency: int, seconds: float) -> dict:
    """GET the petition page (what every signer loads first) with wrk's own script-less
    mode: requests/s and latency for an anonymous reader."""
    url = f"{server.base}/p/{SLUG}/"
    done = subprocess.run(
        [
            "wrk",
            "-t",
            str(min(4, concurrency)),
            "-c",
            str(concurrency),
            "-d",
            f"{seconds}s",
            "--latency",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    text = done.stdout
    rate = float(text.split("Requests/sec:")[1].split()[0])
    latency = {
        line.split()[0]: line.split()[1]
        for line in text.splitlines()
        if line.strip().startswith(("50%", "99%"))
    }
    non_2xx = int(text.split("Non-2xx or 3xx responses:")[1].split()[0]) if "Non-2xx" in text else 0
    return {
        "concurrency": concurrency,
        "seconds": seconds,
        "per_second": rate,
        "p50": latency.get("50%"),
        "p99": latency.get("99%"),
        "non_2xx": non_2xx,
    }


def cpu_per_sign(cpu: dict, signs: int) -> dict:
    """CPU milliseconds per accepted signature, and what that would allow on this many
    cores with nothing else running: an estimate for when the machine is shared (the
    machine's other work shows as cpu.other)."""
    if not signs:
        return {"cpu_ms_per_sign": None, "idle_machine_estimate": None}
    ms = {key: round(1000 * cpu["cpu_seconds"][key] / signs, 2) for key in ("server", "postgres")}
    ms["wrk"] = round(1000 * cpu["cpu_seconds"]["wrk"] / signs, 2)
    ms["total"] = round(sum(ms.values()), 2)
    estimate = round((os.cpu_count() or 1) * 1000 / ms["total"]) if ms["total"] else None
    return {"cpu_ms_per_sign": ms, "idle_machine_estimate": estimate}


# --- one database ---------------------------------------------------------------------


def base_env(data_dir: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HAMSEDA_")}
    env.update(
        HAMSEDA_DATA_DIR=str(data_dir),
        HAMSEDA_SECRET_KEY=secrets.token_urlsafe(48),
        HAMSEDA_EMAIL_URL=(data_dir / "mailbox").as_uri(),
        HAMSEDA_ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    return env


def bench_database(kind: str, options, work_dir: Path) -> dict:
    data_dir = work_dir / kind
    data_dir.mkdir(parents=True)
    (data_dir / "mailbox").mkdir()
    db: Database = (
        SQLiteDatabase(data_dir) if kind == "sqlite" else PostgresDatabase(options.postgres)
    )
    env = {**base_env(data_dir), **db.env()}
    report = {"database": kind, "version": db.version(), "settings": db.settings(), "runs": []}
    server = None
    try:
        log(f"{kind}: demo --no-serve (migrate, demo petition) in {data_dir}")
        subprocess.run(
            [str(HAMSEDA), "demo", "--no-serve"],
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        server = Server(env, data_dir, options.workers, options.threads)
        report["server"] = {
            "command": "hamseda serve",
            "worker_class": "gthread",
            "workers": options.workers,
            "threads": options.threads,
            "port": server.port,
        }
        cookie, token = server.csrf_pair()
        log(f"{kind}: serving on {server.base}; warm-up {options.warmup} s")
        run_wrk(server, cookie, token, max(options.concurrency), options.warmup, "warm")
        for concurrency in options.concurrency:
            tag = f"{kind}{concurrency}x{secrets.token_hex(3)}"
            before = db.count_rows()
            load_before = loadavg()
            meter = CpuMeter(server.process.pid, getattr(db, "dbname", None))
            meter.start()
            log(f"{kind}: signing at concurrency {concurrency} for {options.seconds} s")
            run = run_wrk(server, cookie, token, concurrency, options.seconds, tag)
            cpu = meter.stop(run.pop("wrk_cpu_seconds"))
            after = db.count_rows()
            rows = {key: after[key] - before[key] for key in COUNTED}
            run.update(
                concurrency=concurrency,
                seconds=options.seconds,
                rows=rows,
                rows_match=all(n == run["answered_2xx"] for n in rows.values()),
                load_average_before=load_before,
                cpu=cpu,
            )
            run.update(cpu_per_sign(cpu, run["answered_2xx"]))
            if not run["rows_match"]:
                log(
                    f"!!! {kind} c={concurrency}: ROWS DO NOT MATCH 2xx ANSWERS: "
                    f"{rows} rows vs {run['answered_2xx']} answers"
                )
            log(f"{kind}: raw INSERT rate at concurrency {concurrency}, {options.raw_seconds} s")
            run["raw_insert"] = raw_insert_rate(db, concurrency, options.raw_seconds)
            run["ratio_to_raw"] = round(
                run["signs_per_second"] / run["raw_insert"]["per_second"], 3
            )
            log(
                f"{kind} c={concurrency}: {run['signs_per_second']} signs/s, "
                f"p50 {run['p50_ms']} ms, p99 {run['p99_ms']} ms, "
                f"raw {run['raw_insert']['per_second']}/s"
            )
            report["runs"].append(run)
        page_seconds = max(5, options.seconds // 3)
        log(f"{kind}: reading the petition page at concurrency 32 for {page_seconds} s")
        report["page_reads"] = read_page_rate(server, 32, page_seconds)
        log(f"{kind}: petition page {report['page_reads']['per_second']:.0f} req/s")
        report["server_errors_logged"] = server.errors_logged()
    finally:
        if server is not None:
            server.stop()
        db.drop()
    return report


# --- output ---------------------------------------------------------------------------


def table(reports: list[dict]) -> str:
    header = (
        "| database | conc. | signs/s | p50 ms | p99 ms | errors | rows = 2xx | "
        "raw INSERT/s | signs/raw | CPU ms/sign | est. signs/s alone | others' CPU |"
    )
    lines = [header, "| --- " * (header.count("|") - 1) + "|"]
    for report in reports:
        for run in report["runs"]:
            # Socket errors are not counted: when signing stops, gunicorn closes the idle
            # keep-alive connections (after 2 s) and wrk counts each as a read error. A
            # sign request that failed on the socket shows as unanswered.
            errors = run["non_2xx"] + run["unanswered"]
            rows = run["rows"]["signatures"]
            match = "yes" if run["rows_match"] else "**NO**"
            cpu_ms = run["cpu_ms_per_sign"]["total"] if run["cpu_ms_per_sign"] else None
            # Share of the machine's CPU used by processes other than this benchmark's.
            cpu = run["cpu"]
            capacity = cpu["wall_seconds"] * (os.cpu_count() or 1)
            others = 100 * cpu["cpu_seconds"]["other"] / capacity if capacity else 0
            lines.append(
                f"| {report['database']} | {run['concurrency']} | {run['signs_per_second']:.0f} "
                f"| {run['p50_ms']} | {run['p99_ms']} | {errors} "
                f"| {rows} = {run['answered_2xx']} {match} "
                f"| {run['raw_insert']['per_second']:.0f} | {run['ratio_to_raw']:.2f} "
                f"| {cpu_ms} | {run['idle_machine_estimate']} | {others:.0f}% |"
            )
    lines += [
        "",
        "| database | petition page GET/s (c=32) | p50 | p99 | non-2xx |",
        "| --- | --- | --- | --- | --- |",
    ]
    for report in reports:
        if reads := report.get("page_reads"):
            lines.append(
                f"| {report['database']} | {reads['per_second']:.0f} | {reads['p50']} "
                f"| {reads['p99']} | {reads['non_2xx']} |"
            )
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=30, help="signing time per run")
    parser.add_argument(
        "--concurrency", default="8,32", help="comma-separated connection counts (default 8,32)"
    )
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--quick", action="store_true", help="5 s runs at concurrency 8 only")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up seconds")
    parser.add_argument("--raw-seconds", type=float, default=10, help="raw INSERT test seconds")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--keep", action="store_true", help="keep the data directories")
    options = parser.parse_args(argv)
    if options.quick:
        options.seconds, options.warmup, options.raw_seconds = 5, 2, 3
        if options.concurrency == "8,32":
            options.concurrency = "8"
    options.concurrency = [int(c) for c in options.concurrency.split(",") if c.strip()]
    options.databases = [d.strip() for d in options.databases.split(",") if d.strip()]
    if not options.concurrency or max(options.concurrency) > 256:
        parser.error("--concurrency: between 1 and 256 connections")
    if not 1 <= options.seconds <= 600:
        parser.error("--seconds: between 1 and 600")
    if unknown := set(options.databases) - {"sqlite", "postgres"}:
        parser.error(f"--databases: unknown {', '.join(sorted(unknown))}")
    return options


def main(argv=None) -> int:
    options = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk; `make system-deps`).")
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix="hamseda-bench-"))
    started = datetime.now(UTC)
    reports = []
    try:
        for kind in options.databases:
            reports.append(bench_database(kind, options, work_dir))
    finally:
        if options.keep:
            log(f"data kept in {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    result = {
        "started": started.isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": machine(),
        "options": {
            key: getattr(options, key)
            for key in ("seconds", "concurrency", "workers", "threads", "warmup", "raw_seconds")
        },
        "goals": {"signs_per_second": GOAL_SIGNS, "postgres_ratio_to_raw": GOAL_RAW_RATIO},
        "databases": reports,
    }
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(table(reports))
    print(f"\nWritten to {options.output}")
    mismatches = [
        (r["database"], run["concurrency"])
        for r in reports
        for run in r["runs"]
        if not run["rows_match"]
    ]
    if mismatches:
        print(f"\n!!! ROWS DO NOT MATCH 2xx ANSWERS in {mismatches}: a durability bug.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
