"""Site-wide endpoints: /healthz, /metrics, security headers."""

import pytest

from hamseda import network


def test_healthz_answers_when_the_database_does(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_metrics_answers_loopback_with_counts(client, petition):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert 'hamseda_petitions{state="open"} 1' in response.text
    assert "hamseda_confirmed_signatures 0" in response.text


def test_metrics_refuses_a_stranger(client, db):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404


def test_metrics_answers_an_organizer_anywhere(client, owner):
    client.force_login(owner)
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 200


def test_metrics_believes_forwarded_addresses_only_from_trusted_proxies(client, db, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    network._trusted_networks.cache_clear()
    try:
        behind_proxy = client.get(
            "/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"
        )
        assert behind_proxy.status_code == 404
        forged = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="127.0.0.1")
        assert forged.status_code == 404
    finally:
        network._trusted_networks.cache_clear()


@pytest.mark.parametrize("path", ["/", "/healthz"])
def test_every_answer_carries_a_strict_content_security_policy(client, db, path):
    policy = client.get(path)["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy


@pytest.mark.parametrize(
    ("path", "language", "expected"),
    [
        ("/p/x/", "fa", "/fa/p/x/"),
        ("/fa/p/x/", "en", "/p/x/"),
        ("/fa/p/x/", "ps", "/ps/p/x/"),
        ("/fa", "en", "/"),
        ("/", "ps", "/ps/"),
        ("/fashion/", "en", "/fashion/"),
    ],
)
def test_the_language_switcher_points_at_the_same_page(path, language, expected):
    from hamseda.context import alternate_url

    assert alternate_url(path, language) == expected
