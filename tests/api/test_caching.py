"""Caching and CORS of the API: the headers every answer carries (api.http), and the
few-second cache of anonymous reads in front of Django (api.fastcache): stale by at most
its lifetime, nothing personal possible in it, never a write or a server error."""

import io
from collections.abc import Callable

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from hamseda.api import fastcache
from hamseda.api.fastcache import Entry, FastCache, LocalStore
from tests.api.dataset import confirmed_signatures
from tests.conftest import signer

API = "/api/v1"


# --- headers of every answer (api.http) ------------------------------------------------------


def test_a_read_has_a_strong_etag_and_answers_304_to_it(client, petition):
    path = f"{API}/petitions/{petition.slug}"
    first = client.get(path)
    etag = first["ETag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert again["Cache-Control"] == "public, max-age=15"
    assert again["Access-Control-Allow-Origin"] == "*"
    # Weak comparison (RFC 9110): a W/ form of the tag matches too; another does not.
    assert client.get(path, headers={"If-None-Match": f"W/{etag}"}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(path, headers={"If-None-Match": "*"}).status_code == 304
    # Another language is another body, so another tag.
    assert client.get(path, {"lang": "fa"})["ETag"] != etag


def test_the_etag_changes_with_the_count(client, petition, outbox, now):
    path = f"{API}/petitions/{petition.slug}/count"
    before = client.get(path)["ETag"]
    confirmed_signatures(petition, outbox, [signer(1), signer(2)], now)
    after = client.get(path, headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.json()["signature_count"] == 1
    assert after["ETag"] != before


def test_reads_are_for_every_origin_and_vary_on_nothing_personal(client, petition):
    response = client.get(
        f"{API}/petitions/{petition.slug}",
        headers={"Origin": "https://partner.example.org", "Accept-Language": "fa"},
    )
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response["Access-Control-Expose-Headers"]
    # The language is the `lang` parameter, not the browser's: no Vary on it.
    assert "Vary" not in response
    assert "Content-Language" not in response
    assert response.json()["title"] == "Suspend the accounts"


def test_a_preflight_for_a_read_is_granted_and_for_a_write_is_not(client, petition):
    path = f"{API}/petitions/{petition.slug}"
    read = client.options(
        path,
        headers={
            "Origin": "https://partner.example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert read.status_code == 204
    assert read["Access-Control-Allow-Origin"] == "*"
    assert "GET" in read["Access-Control-Allow-Methods"]
    assert "If-None-Match" in read["Access-Control-Allow-Headers"]
    write = client.options(
        f"{path}/signatures",
        headers={"Origin": "https://partner.example.org", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in write


def test_head_is_get_without_the_body(client, petition):
    path = f"{API}/petitions/{petition.slug}"
    full = client.get(path)
    head = client.head(path)
    assert head.status_code == 200
    assert head.content == b""
    assert head["ETag"] == full["ETag"]
    assert head["Content-Length"] == str(len(full.content))


def test_a_server_error_is_json_and_never_stored(petition, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("hamseda.api.read.petitions.petition_json", broken)
    response = Client(raise_request_exception=False).get(f"{API}/petitions/{petition.slug}")
    assert response.status_code == 500
    assert response["Cache-Control"] == "no-store"
    assert response.json()["error"] == "server_error"
    assert "boom" not in response.content.decode()


def test_a_write_is_never_stored(client, petition):
    response = client.post(f"{API}/petitions", {}, content_type="application/json")
    assert response.status_code == 405
    assert response["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in response
    assert response.json()["error"] == "method_not_allowed"


# --- the cache in front of Django (api.fastcache) --------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Counting:
    """Django's WSGI application, counting the requests that reach it."""

    def __init__(self, app: Callable) -> None:
        self.app = app
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.app(environ, start_response)


@pytest.fixture
def django_app():
    # Django's test client keeps the test's database connection open across requests;
    # a bare WSGI handler would close it around each (as in django.test.client).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield Counting(WSGIHandler())
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def cached(django_app, clock):
    return FastCache(django_app, seconds=5, store=LocalStore(), clock=clock)


def call(app, path: str, method: str = "GET", query: str = "", scheme: str = "http", **headers):
    """One request through a WSGI application: (status, headers, body)."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "CONTENT_LENGTH": "0",
    }
    for name, value in headers.items():
        environ[name if name in {"CONTENT_TYPE"} else f"HTTP_{name.upper()}"] = value
    answer: dict = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(response_headers)

    body = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], body


def test_a_repeated_read_is_answered_without_django(cached, django_app, clock, petition):
    path = f"{API}/petitions/{petition.slug}"
    status, headers, body = call(cached, path)
    assert status == "200 OK"
    assert "Age" not in headers
    clock.now += 3
    again = call(cached, path)
    assert django_app.calls == 1
    assert again[0] == status
    assert again[2] == body
    assert again[1] == {**headers, "Age": "3"}  # The same headers, replayed, with Age.
    # Another query string is another entry.
    call(cached, path, query="lang=fa")
    assert django_app.calls == 2


def test_a_cached_count_is_stale_by_at_most_the_lifetime(
    cached, django_app, clock, petition, outbox, now
):
    path = f"{API}/petitions/{petition.slug}/count"
    assert b'"signature_count": 0' in call(cached, path)[2]
    confirmed_signatures(petition, outbox, [signer(1), signer(2)], now)
    clock.now += 4.9
    assert b'"signature_count": 0' in call(cached, path)[2]  # Still the cached answer.
    clock.now += 0.1
    assert b'"signature_count": 1' in call(cached, path)[2]  # 5 s: asked again.
    assert django_app.calls == 2


def test_it_answers_304_from_the_cache(cached, django_app, petition):
    path = f"{API}/petitions/{petition.slug}"
    # A miss with If-None-Match still stores the full answer, then answers 304.
    _status, headers, _body = call(cached, path)
    cached.store.clear()
    status, not_modified, body = call(cached, path, if_none_match=headers["ETag"])
    assert (status, body) == ("304 Not Modified", b"")
    assert not_modified["ETag"] == headers["ETag"]
    assert not_modified["Cache-Control"] == headers["Cache-Control"]
    assert "Content-Type" not in not_modified
    status, _headers, body = call(cached, path)
    assert status == "200 OK"
    assert body
    assert django_app.calls == 2
    assert call(cached, path, if_none_match='"stale"')[0] == "200 OK"


def test_head_is_served_from_a_stored_get(cached, django_app, petition):
    path = f"{API}/petitions/{petition.slug}"
    _status, _headers, body = call(cached, path)
    status, head_headers, head_body = call(cached, path, method="HEAD")
    assert (status, head_body) == ("200 OK", b"")
    assert head_headers["Content-Length"] == str(len(body))
    assert django_app.calls == 1


def test_no_cache_asks_django_again(cached, django_app, petition):
    path = f"{API}/petitions/{petition.slug}/count"
    call(cached, path)
    call(cached, path, cache_control="no-cache")
    call(cached, path)
    assert django_app.calls == 2


@pytest.mark.parametrize(
    "credentials",
    [
        {"authorization": "Bearer hsk_abc_def"},
        {"osdi_api_token": "hsk_abc_def"},
        {"x_api_key": "hsk_abc_def"},
        {"cookie": "sessionid=abc; csrftoken=x"},
    ],
)
def test_a_request_with_credentials_bypasses_the_cache(cached, django_app, petition, credentials):
    path = f"{API}/petitions/{petition.slug}"
    call(cached, path, **credentials)
    call(cached, path, **credentials)
    assert django_app.calls == 2
    call(cached, path)  # Nothing was stored by the requests with credentials.
    assert django_app.calls == 3
    call(cached, path, **credentials)  # Nor is the anonymous entry given to them.
    assert django_app.calls == 4


def test_a_request_django_would_refuse_never_gets_a_stored_answer(cached, django_app, petition):
    path = f"{API}/petitions/{petition.slug}"
    assert call(cached, path)[0] == "200 OK"
    # Not one of ALLOWED_HOSTS: Django's 400, not the entry stored for testserver.
    assert call(cached, path, host="evil.example")[0].startswith("400")
    # Another scheme (which an HTTPS-only install redirects) is another entry.
    call(cached, path, scheme="https")
    assert django_app.calls == 3


def test_a_cookie_without_a_session_is_anonymous(cached, django_app, petition):
    path = f"{API}/petitions/{petition.slug}"
    call(cached, path, cookie="theme=dark; csrftoken=" + "a" * 32)
    call(cached, path)
    assert django_app.calls == 1


def test_only_public_shareable_answers_are_stored():
    ok = [("Content-Type", "application/json"), ("Cache-Control", "public, max-age=15")]
    assert fastcache.may_store("200 OK", ok, b"{}")
    assert fastcache.may_store("404 Not Found", ok, b"{}")
    assert not fastcache.may_store("500 Internal Server Error", ok, b"{}")
    assert not fastcache.may_store("304 Not Modified", ok, b"")
    assert not fastcache.may_store("422 Unprocessable Content", ok, b"{}")
    assert not fastcache.may_store("200 OK", [*ok, ("Set-Cookie", "sessionid=1")], b"{}")
    for vary in ["Cookie", "Accept-Encoding, cookie", "Authorization", "*"]:
        assert not fastcache.may_store("200 OK", [*ok, ("Vary", vary)], b"{}"), vary
    assert fastcache.may_store("200 OK", [*ok, ("Vary", "Accept-Encoding")], b"{}")
    for control in ["private, max-age=5", "no-store", "public, no-cache", "max-age=15", ""]:
        assert not fastcache.may_store("200 OK", [("Cache-Control", control)], b"{}"), control
    assert not fastcache.may_store("200 OK", ok, b"x" * (fastcache.MAX_BODY + 1))


def test_writes_and_server_errors_are_never_stored(clock):
    answers = {"POST": ("200 OK", b"written"), "GET": ("500 Internal Server Error", b"boom")}
    calls = []

    def app(environ, start_response):
        calls.append(environ["REQUEST_METHOD"])
        status, body = answers[environ["REQUEST_METHOD"]]
        start_response(status, [("Cache-Control", "public, max-age=60")])
        return [body]

    cached = FastCache(app, seconds=5, store=LocalStore(), clock=clock)
    for _ in range(2):
        call(cached, f"{API}/petitions/x", method="POST")
        assert call(cached, f"{API}/petitions/x")[0].startswith("500")
    assert calls == ["POST", "GET", "POST", "GET"]


def test_only_the_api_is_cached(clock):
    calls = []

    def app(environ, start_response):
        calls.append(environ["PATH_INFO"])
        start_response("200 OK", [("Cache-Control", "public, max-age=60")])
        return [b"page"]

    cached = FastCache(app, seconds=5, store=LocalStore(), clock=clock)
    for _ in range(2):
        call(cached, "/p/free-speech/")
        call(cached, "/api/osdi/v1/petitions")
    assert len(calls) == 4


def test_a_shorter_max_age_shortens_the_lifetime(clock):
    calls = []

    def app(environ, start_response):
        calls.append(1)
        start_response("200 OK", [("Cache-Control", "public, max-age=1")])
        return [b"{}"]

    cached = FastCache(app, seconds=5, store=LocalStore(), clock=clock)
    call(cached, f"{API}/x")
    clock.now += 1
    call(cached, f"{API}/x")
    assert len(calls) == 2


def test_the_store_stays_within_its_bytes():
    store = LocalStore(max_bytes=10_000)
    for number in range(100):
        entry = Entry("200 OK", (), b"x" * 1000, stored_at=float(number), expires_at=number + 5.0)
        store.put(f"/api/v1/{number}", entry)
        assert store._bytes <= 10_000
    assert store.get("/api/v1/99") is not None
    assert store.get("/api/v1/0") is None


def test_it_can_be_switched_off(settings):
    def app(environ, start_response):
        return []

    settings.HAMSEDA = {**settings.HAMSEDA, "API_CACHE": "off"}
    assert fastcache.wrap(app) is app
    settings.HAMSEDA = {**settings.HAMSEDA, "API_CACHE": "local", "API_CACHE_SECONDS": 0}
    assert fastcache.wrap(app) is app
    settings.HAMSEDA = {**settings.HAMSEDA, "API_CACHE": "local", "API_CACHE_SECONDS": 5}
    assert isinstance(fastcache.wrap(app), FastCache)
    settings.HAMSEDA = {**settings.HAMSEDA, "API_CACHE": "lokal"}
    with pytest.raises(RuntimeError, match="HAMSEDA_API_CACHE"):
        fastcache.wrap(app)


def test_the_shared_store_keeps_entries_in_djangos_cache(db):
    store = fastcache.SharedStore()
    entry = Entry("200 OK", (("ETag", '"a"'),), b"{}", stored_at=1.0, expires_at=6.0)
    store.put("/api/v1/petitions?lang=fa", entry)
    assert store.get("/api/v1/petitions?lang=fa") == entry
    assert store.get("/api/v1/petitions") is None
