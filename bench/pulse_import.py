"""Import rate of `hamseda posts import` from twarc2 JSON Lines (issue 6).

`.venv/bin/python bench/pulse_import.py` (or `--help`). It writes a realistic twarc2
file into a temporary folder — `--posts` tweets (default 1,000,000) in pages of 100,
each page with its `includes.users` and `includes.tweets` as the X API v2 sends them;
English, Dari and Pashto texts with 1–4 hashtags; originals, retweets, replies and
quotes; edit histories — then imports it with `import_file()` into a fresh database of
the production settings (SQLite in WAL mode in a throw-away data folder, as `hamseda
demo` runs; then PostgreSQL if `--postgres` answers), INCLUDING the aggregate rebuild
at the end, and prints posts per second. Each database runs in a child process, since
Django is configured once per process.

Goal (issue 6): ≥ 50,000 posts/s from JSONL on SQLite. Results are printed and written
to bench/results/pulse_import.json.
"""

import argparse
import json
import os
import platform
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
GOAL_POSTS_PER_S = 50_000
PAGE = 100
_SNOWFLAKE_EPOCH_MS = 1288834974657

TEXTS = {
    "en": [
        "Suspend the accounts of a designated terrorist group now",
        "Afghan women are banned from school, work and parks. Speak up",
        "Thousands marched in London, Stockholm and San Francisco today",
        "Sign the petition and share it with everyone you know",
    ],
    "fa": [
        "حساب‌های گروه تروریستی را همین حالا مسدود کنید",
        "زنان افغانستان از مکتب، کار و پارک محروم شده‌اند. صدای آنان باشید",
        "هزاران نفر امروز در لندن، استکهلم و سان‌فرانسیسکو راهپیمایی کردند",
        "دادخواست را امضا کنید و با همه به اشتراک بگذارید",
    ],
    "ps": [
        "د ترهګرې ډلې حسابونه همدا اوس بند کړئ",
        "افغانې ښځې له ښوونځي، کار او پارکونو منع شوې دي",
        "نن په لندن، سټاکهولم او سان فرانسیسکو کې زرګونه خلک راووتل",
        "عریضه لاسلیک کړئ او له نورو سره یې شریکه کړئ",
    ],
}
HASHTAGS = [
    "BanTaliban",
    "Afghanistan",
    "AfghanWomen",
    "LetAfghanGirlsLearn",
    "آزادی\u200cبیان",
    "زن_زندگی_آزادی",
    "طالبان",
    "افغانستان",
    "د_افغانستان_ښځې",
    "StandWithAfghanWomen",
]


def snowflake(moment_ms: int, sequence: int) -> int:
    return ((moment_ms - _SNOWFLAKE_EPOCH_MS) << 22) | (sequence & 0x3FFFFF)


def generate(path: Path, posts: int, seed: int = 6) -> dict:
    """Write `posts` tweets as twarc2 pages; returns what was written."""
    import orjson

    rng = random.Random(seed)
    authors = max(posts // 8, 10)
    start_ms = int(datetime(2025, 8, 10, tzinfo=UTC).timestamp() * 1000)
    # The campaign spreads over ten days; tweets come newest first as search returns
    # them, and a page spans a few minutes.
    span_ms = 10 * 24 * 3600 * 1000
    step_ms = span_ms // posts
    written = 0
    sequence = 0
    with path.open("wb") as handle:
        for page_start in range(0, posts, PAGE):
            tweets = []
            users = {}
            referenced = {}
            for number in range(page_start, min(page_start + PAGE, posts)):
                moment = start_ms + span_ms - number * step_ms
                sequence += 1
                tweet_id = str(snowflake(moment, sequence))
                author = rng.randrange(authors)
                author_id = str(10_000_000 + author)
                users[author_id] = {
                    "id": author_id,
                    "name": f"Supporter {author}",
                    "username": f"supporter_{author}",
                    "created_at": "2019-05-01T10:00:00.000Z",
                    "public_metrics": {"followers_count": author % 997, "following_count": 80},
                    "verified": False,
                }
                language = rng.choices(("en", "fa", "ps", "und"), (45, 35, 15, 5))[0]
                words = rng.choice(TEXTS["en" if language == "und" else language])
                tags = rng.sample(HASHTAGS, rng.randint(1, 4))
                if "BanTaliban" not in tags:
                    tags[0] = "BanTaliban"
                text = words
                hashtags = []
                for tag in tags:
                    start = len(text) + 1
                    text = f"{text} #{tag}"
                    hashtags.append({"start": start, "end": len(text), "tag": tag})
                kind = rng.choices(
                    ("original", "retweeted", "replied_to", "quoted"), (60, 20, 12, 8)
                )[0]
                created = datetime.fromtimestamp(moment / 1000, tz=UTC)
                tweet = {
                    "id": tweet_id,
                    "text": text,
                    "author_id": author_id,
                    "created_at": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "lang": language,
                    "conversation_id": tweet_id,
                    "edit_history_tweet_ids": [tweet_id],
                    "entities": {"hashtags": hashtags},
                    "public_metrics": {
                        "retweet_count": rng.randrange(20),
                        "reply_count": rng.randrange(5),
                        "like_count": rng.randrange(100),
                        "quote_count": rng.randrange(3),
                        "bookmark_count": rng.randrange(3),
                        "impression_count": rng.randrange(5000),
                    },
                    "possibly_sensitive": False,
                    "reply_settings": "everyone",
                }
                if rng.random() < 0.01:
                    # An edited tweet: the page gives its newest version.
                    first = str(snowflake(moment - 600_000, sequence))
                    tweet["edit_history_tweet_ids"] = [first, tweet_id]
                if kind != "original":
                    other = str(snowflake(moment - 3_600_000, sequence + 7))
                    tweet["referenced_tweets"] = [{"type": kind, "id": other}]
                    referenced[other] = {
                        "id": other,
                        "text": words,
                        "author_id": author_id,
                        "edit_history_tweet_ids": [other],
                    }
                    if kind == "retweeted":
                        tweet["text"] = f"RT @supporter_{author}: {text}"
                    if kind == "replied_to":
                        tweet["in_reply_to_user_id"] = author_id
                tweets.append(tweet)
            page = {
                "data": tweets,
                "includes": {"users": list(users.values()), "tweets": list(referenced.values())},
                "meta": {
                    "newest_id": tweets[0]["id"],
                    "oldest_id": tweets[-1]["id"],
                    "result_count": len(tweets),
                    "next_token": secrets.token_hex(16),
                },
                "__twarc": {
                    "url": "https://api.x.com/2/tweets/search/all?query=%23BanTaliban",
                    "version": "2.14.0",
                    "retrieved_at": "2025-08-20T12:00:00+00:00",
                },
            }
            handle.write(orjson.dumps(page) + b"\n")
            written += len(tweets)
    return {"posts": written, "bytes": path.stat().st_size, "authors": authors}


# --- the child process: one database --------------------------------------------------


def run_worker(
    kind: str, file: Path, database_url: str, profile: bool, reimport: bool, batch_size: int
) -> dict:
    with tempfile.TemporaryDirectory(prefix="hamseda-bench-pulse-") as data_dir:
        os.environ["DJANGO_SETTINGS_MODULE"] = "hamseda.settings"
        os.environ["HAMSEDA_DATA_DIR"] = data_dir
        os.environ["HAMSEDA_SECRET_KEY"] = secrets.token_urlsafe(48)
        os.environ.pop("HAMSEDA_REDIS_URL", None)
        if kind == "postgres":
            os.environ["HAMSEDA_DATABASE_URL"] = database_url
        else:
            os.environ.pop("HAMSEDA_DATABASE_URL", None)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        from hamseda.campaigns.models import Campaign
        from hamseda.orgs import services as org_services
        from hamseda.pulse import aggregates
        from hamseda.pulse.importer import import_file
        from hamseda.pulse.models import Post, PulseTotals

        organization = org_services.create_organization(name="Alliance", slug="alliance")
        campaign = Campaign.objects.create(
            organization=organization, slug="ban-taliban", hashtags="BanTaliban"
        )
        version = connection.cursor().connection.execute("SELECT 1") and (
            connection.Database.sqlite_version
            if kind == "sqlite"
            else connection.cursor().connection.info.server_version
        )
        if profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
        started = time.perf_counter()
        cpu = time.process_time()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        report = import_file(campaign, file, **({"batch_size": batch_size} if batch_size else {}))
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        child_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
        if profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        rebuild_started = time.perf_counter()
        aggregates.rebuild_all(campaign)
        rebuild_s = time.perf_counter() - rebuild_started
        totals = PulseTotals.objects.get(campaign=campaign, platform="")
        result = {
            "database": kind,
            "version": str(version),
            "posts_read": report.read,
            "posts_stored": Post.objects.filter(campaign=campaign).count(),
            "posts_new": report.new,
            "bad_lines": report.bad_lines,
            "totals_posts": totals.posts,
            "totals_authors": totals.authors,
            "import_s": round(wall, 2),
            "process_cpu_s": round(cpu, 2),
            "parser_process_cpu_s": round(child_cpu, 2),
            "storing_process_max_rss_mb": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            ),
            "parser_process_max_rss_mb": round(after.ru_maxrss / 1024),
            "posts_per_s": round(report.read / wall),
            "rebuild_all_s": round(rebuild_s, 2),
        }
        if reimport:
            started = time.perf_counter()
            again = import_file(campaign, file)
            seconds = time.perf_counter() - started
            result["reimport_s"] = round(seconds, 2)
            result["reimport_posts_per_s"] = round(again.read / seconds)
            result["reimport_new"] = again.new
        return result


def postgres_database(server_url: str) -> str | None:
    """A fresh database on the server, or None when it does not answer."""
    try:
        import psycopg
    except ImportError:
        return None
    name = f"hamseda_bench_pulse_{os.getpid()}"
    try:
        with psycopg.connect(f"{server_url}/postgres", autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error:
        return None
    return f"{server_url}/{name}"


def drop_postgres(database_url: str) -> None:
    import psycopg

    server_url, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def child(kind: str, file: Path, options, database_url: str = "") -> dict:
    command = [
        sys.executable,
        __file__,
        "--worker",
        kind,
        "--file",
        str(file),
        "--database-url",
        database_url,
    ]
    if options.profile:
        command.append("--profile")
    if options.reimport:
        command.append("--reimport")
    if options.batch_size:
        command += ["--batch-size", str(options.batch_size)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"the {kind} run failed")
    if options.profile:
        sys.stderr.write(done.stdout.rsplit("\n", 2)[0] + "\n")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1_000_000, help="tweets in the file")
    parser.add_argument(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432",
        help="PostgreSQL server to measure too ('' to skip)",
    )
    parser.add_argument("--reimport", action="store_true", help="also time a second import")
    parser.add_argument("--profile", action="store_true", help="profile the imports")
    parser.add_argument("--batch-size", type=int, default=0, help="posts per commit")
    parser.add_argument("--keep", type=Path, help="reuse (or write) the generated file here")
    parser.add_argument("--output", type=Path, default=RESULTS / "pulse_import.json")
    parser.add_argument("--worker", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default="", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if not 1_000 <= options.posts <= 5_000_000:
        parser.error("--posts 1000-5000000")
    return options


def main(argv=None) -> int:
    options = parse_args(argv)
    if options.worker:
        result = run_worker(
            options.worker,
            options.file,
            options.database_url,
            options.profile,
            options.reimport,
            options.batch_size,
        )
        print(json.dumps(result))
        return 0
    started = datetime.now(UTC)
    runs = []
    with tempfile.TemporaryDirectory(prefix="hamseda-bench-pulse-file-") as work:
        file = options.keep or Path(work) / "tweets.jsonl"
        began = time.perf_counter()
        if options.keep and options.keep.exists():
            written = {"posts": options.posts, "bytes": file.stat().st_size, "authors": 0}
        else:
            written = generate(file, options.posts)
        written["generate_s"] = round(time.perf_counter() - began, 1)
        print(
            f"Wrote {written['posts']:,} tweets ({written['bytes'] / 1e6:,.0f} MB, "
            f"{written['authors']:,} authors) in {written['generate_s']} s.",
            flush=True,
        )
        load_before = os.getloadavg()[0]
        runs.append(child("sqlite", file, options))
        database_url = postgres_database(options.postgres) if options.postgres else None
        if database_url:
            try:
                runs.append(child("postgres", file, options, database_url))
            finally:
                drop_postgres(database_url)
        load_after = os.getloadavg()[0]
    result = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "file": written,
        "load_average": {"before": load_before, "after": load_after},
        "goal_posts_per_s": GOAL_POSTS_PER_S,
        "runs": runs,
    }
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    for run in runs:
        line = (
            f"{run['database']} {run['version']}: {run['posts_read']:,} posts imported in "
            f"{run['import_s']} s including the aggregate rebuild = {run['posts_per_s']:,} "
            f"posts/s (CPU: storing process {run['process_cpu_s']} s, parsing process "
            f"{run['parser_process_cpu_s']} s; memory at most "
            f"{run['storing_process_max_rss_mb']} + {run['parser_process_max_rss_mb']} MB; "
            f"a full rebuild alone {run['rebuild_all_s']} s)"
        )
        if "reimport_s" in run:
            line += (
                f"; a second import of the same file: {run['reimport_posts_per_s']:,} posts/s, "
                f"{run['reimport_new']} new"
            )
        print(line + ".")
    sqlite = runs[0]["posts_per_s"]
    print(
        f"Goal ≥ {GOAL_POSTS_PER_S:,} posts/s on SQLite: "
        f"{'yes' if sqlite >= GOAL_POSTS_PER_S else 'NO'}. "
        f"Load average {load_before:.1f} → {load_after:.1f}."
    )
    return 0 if sqlite >= GOAL_POSTS_PER_S else 1


if __name__ == "__main__":
    sys.exit(main())
