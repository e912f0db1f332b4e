"""With HAMSEDA_REDIS_URL the page caches live in Redis, shared by every server process.

Runs against the Redis server at HAMSEDA_TEST_REDIS_URL (set by `make test` for the
PostgreSQL run). Without it the test is skipped, unless HAMSEDA_REQUIRE_SERVICES is set
(as in CI), where a missing Redis is a failure.
"""

import os

import pytest
from django.core.cache import caches
from django.urls import reverse

from hamseda.petitions import pagecache, services

REDIS_URL = os.environ.get("HAMSEDA_TEST_REDIS_URL", "")


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=3).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_cache(settings):
    if not (REDIS_URL and redis_answers(REDIS_URL)):
        if os.environ.get("HAMSEDA_REQUIRE_SERVICES"):
            pytest.fail(f"Redis at {REDIS_URL or '(HAMSEDA_TEST_REDIS_URL unset)'} is required")
        pytest.skip("no Redis reachable at HAMSEDA_TEST_REDIS_URL")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"hamseda-test-{os.getpid()}",
        }
    }
    cache = caches["default"]
    cache.clear()
    yield cache
    cache.clear()


def test_the_petition_page_is_cached_in_redis_and_dropped_on_close(
    client, petition, redis_cache, django_capture_on_commit_callbacks
):
    url = reverse("petitions:detail", args=[petition.slug])
    assert client.get(url).status_code == 200
    cached = redis_cache.get(pagecache.petition_page_key(petition.slug, "en"))
    assert pagecache.CSRF_PLACEHOLDER in cached  # Stored with the placeholder, not a token.

    with django_capture_on_commit_callbacks(execute=True):
        services.close_petition(petition)

    assert redis_cache.get(pagecache.petition_page_key(petition.slug, "en")) is None
    assert 'name="email"' not in client.get(url).text
