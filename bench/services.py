"""Is a service reachable? `python bench/services.py postgres URL` or `redis URL`.

Exit 0 when it answers, 1 when not. The Makefile uses it to decide whether the
PostgreSQL test run can happen here (and CI makes its absence an error).
"""

import sys


def postgres(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def redis(url: str) -> bool:
    import redis as redis_lib

    try:
        return bool(redis_lib.Redis.from_url(url, socket_timeout=3).ping())
    except redis_lib.RedisError:
        return False


if __name__ == "__main__":
    kind, url = sys.argv[1], sys.argv[2]
    sys.exit(0 if {"postgres": postgres, "redis": redis}[kind](url) else 1)
