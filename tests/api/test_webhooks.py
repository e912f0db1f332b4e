"""Webhooks (docs/api-osdi-webhooks.md): signed deliveries to a real local receiver,
retries with backoff, 410 and repeated failures switching a subscription off, exactly
one delivery per subscriber for milestones, outcomes and responses made through the
real services, the address guard (SSRF), and the owners' pages."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hamseda.api import webhook_delivery, webhooks
from hamseda.api.models import DeliveryState, WebhookDelivery, WebhookEvent, WebhookSubscription
from hamseda.campaigns import partners
from hamseda.integrity.models import AuditEvent
from hamseda.petitions import outcomes, responses, services, thresholds
from hamseda.petitions.models import DecisionMaker, ResponseRequest
from tests.conftest import make_org, signer, with_two_factor

MILESTONE, OUTCOME, RESPONSE = WebhookEvent.MILESTONE, WebhookEvent.OUTCOME, WebhookEvent.RESPONSE


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST and answers the next status
    of `statuses` (200 once they run out)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                    }
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        # A short poll, so that shutdown() at the end of each test returns at once.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a partner runs (the snippet in docs/api-osdi-webhooks.md)."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(fields["t"])
    if abs(now - timestamp) > tolerance:
        return False
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


@pytest.fixture
def allow_private(settings):
    settings.HAMSEDA = {**settings.HAMSEDA, "WEBHOOK_ALLOW_PRIVATE": True}


@pytest.fixture
def receiver(allow_private):
    server = Receiver()
    yield server
    server.close()


def subscribe(organization, url, events=(MILESTONE, OUTCOME, RESPONSE), now=None):
    return webhooks.create_subscription(organization, url=url, events=events, now=now)


def reach_milestone(petition, now, count=1):
    threshold = thresholds.add_threshold(petition, count=count, action="record", now=now)
    services.record_confirmed_signature(petition, signer(1, first_name="Zarghuna"), now=now)
    assert thresholds.check_thresholds(now=now) == 1
    return threshold


# --- delivering --------------------------------------------------------------------------


def test_a_milestone_is_posted_signed_with_public_data_only(db, org, petition, receiver, now):
    subscription, secret = subscribe(org.organization, receiver.url, now=now)
    reach_milestone(petition, now)

    assert webhooks.deliver_due(now=now) == 1
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers = request["headers"]
    assert request["path"] == "/hook"
    assert headers["Hamseda-Event"] == "petition.milestone"
    assert headers["Content-Type"] == "application/json"
    delivery = WebhookDelivery.objects.get()
    assert headers["Hamseda-Delivery"] == delivery.event_id
    assert verify(secret, headers["Hamseda-Signature"], request["body"], int(now.timestamp()))
    assert not verify(
        "whsec_wrong", headers["Hamseda-Signature"], request["body"], int(now.timestamp())
    )
    payload = json.loads(request["body"])
    assert payload["event"] == "petition.milestone"
    assert payload["id"] == delivery.event_id
    assert payload["data"]["petition"]["slug"] == petition.slug
    assert payload["data"]["petition"]["title"] == "Suspend the accounts"
    assert payload["data"]["milestone"]["count"] == 1
    # Never a signer: no name, address or anything of the signature.
    assert b"Zarghuna" not in request["body"]
    assert b"example.org" not in request["body"]
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    assert (delivery.attempts, delivery.last_status) == (1, 200)
    # The secret is stored locked, never in the clear.
    assert secret.encode() not in bytes(subscription.locked_secret)


def test_failures_are_retried_with_backoff_then_delivered(db, org, petition, receiver, now):
    subscribe(org.organization, receiver.url, now=now)
    reach_milestone(petition, now)
    receiver.statuses = [500, 503]

    assert webhooks.deliver_due(now=now) == 0
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("queued", 1, 500)
    assert delivery.next_attempt_at == now + timedelta(seconds=30)

    assert webhooks.deliver_due(now=now + timedelta(seconds=29)) == 0  # Not due yet.
    assert len(receiver.requests) == 1

    later = now + timedelta(seconds=30)
    assert webhooks.deliver_due(now=later) == 0
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status) == (2, 503)
    assert delivery.next_attempt_at == later + timedelta(seconds=60)

    assert webhooks.deliver_due(now=later + timedelta(seconds=60)) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 3, 200)
    assert len({r["headers"]["Hamseda-Delivery"] for r in receiver.requests}) == 1


def test_the_backoff_doubles_up_to_six_hours():
    delays = [webhooks.retry_delay(n) for n in range(1, webhooks.MAX_ATTEMPTS)]
    assert delays[:3] == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2)]
    assert max(delays) == timedelta(hours=6)
    assert delays == sorted(delays)


def test_a_delivery_is_given_up_after_the_last_attempt(db, org, petition, receiver, now):
    subscription, _secret = subscribe(org.organization, receiver.url, now=now)
    reach_milestone(petition, now)
    WebhookDelivery.objects.update(attempts=webhooks.MAX_ATTEMPTS - 1)
    WebhookSubscription.objects.update(failures_in_a_row=webhooks.MAX_FAILURES_IN_A_ROW - 1)
    receiver.statuses = [500]

    webhooks.deliver_due(now=now)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("failed", webhooks.MAX_ATTEMPTS)
    subscription.refresh_from_db()
    assert subscription.failures_in_a_row == webhooks.MAX_FAILURES_IN_A_ROW
    assert not subscription.is_active


def test_410_switches_the_subscription_off_and_a_test_switches_it_on(
    db, org, petition, receiver, now
):
    subscription, _secret = subscribe(org.organization, receiver.url, now=now)
    reach_milestone(petition, now)
    outcomes.set_outcome(petition, outcome="won", statements={"en": "We won."}, now=now)
    receiver.statuses = [410]

    webhooks.deliver_due(now=now)

    subscription.refresh_from_db()
    assert not subscription.is_active
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"failed"}
    assert len(receiver.requests) == 1  # The other delivery was given up unsent.
    # Switched off: a new event is not queued for it.
    assert not webhooks.subscribers(WebhookEvent.RESPONSE, petition)

    webhooks.send_test(subscription, now=now)
    assert webhooks.deliver_due(now=now) == 1
    assert receiver.requests[-1]["headers"]["Hamseda-Event"] == "ping"
    subscription.refresh_from_db()
    assert subscription.is_active
    assert subscription.failures_in_a_row == 0


def test_a_leased_delivery_is_left_to_its_worker(db, org, petition, receiver, now):
    subscribe(org.organization, receiver.url, now=now)
    reach_milestone(petition, now)
    WebhookDelivery.objects.update(leased_until=now + timedelta(minutes=1))

    assert webhooks.deliver_due(now=now) == 0
    assert receiver.requests == []
    # The worker died: once its lease is over, the delivery is taken again.
    assert webhooks.deliver_due(now=now + timedelta(minutes=1)) == 1


def test_the_worker_delivers_every_15_seconds(db, org, petition, receiver, now):
    from hamseda import runtime
    from hamseda.api import tasks

    assert ("hamseda.api.tasks.deliver_webhooks", 15) in runtime.SCHEDULE
    subscribe(org.organization, receiver.url)
    reach_milestone(petition, now)
    assert tasks.deliver_webhooks.call() == 1


# --- who is told -------------------------------------------------------------------------


@pytest.fixture
def coalition(db, org, petition, allow_private, monkeypatch):
    """Subscriptions of the petition's organisation (outcomes only), of a coalition
    partner that co-hosts it, of a partner that does not, and of an outsider."""
    monkeypatch.setattr(webhook_delivery, "resolve", lambda host, port: ["127.0.0.1"])
    campaign = petition.campaign
    cohost = make_org("cohost").organization
    partner = make_org("partner").organization
    outsider = make_org("outsider").organization
    partners.add_partner(campaign, cohost)
    partners.add_partner(campaign, partner)
    partners.set_co_hosts(petition, [cohost])
    hooks = {
        "own": subscribe(org.organization, "http://own.example/hook", events=[OUTCOME])[0],
        "cohost": subscribe(cohost, "http://cohost.example/hook")[0],
        "partner": subscribe(partner, "http://partner.example/hook")[0],
        "outsider": subscribe(outsider, "http://outsider.example/hook")[0],
    }
    return hooks


def deliveries(event):
    return sorted(
        WebhookDelivery.objects.filter(event=event).values_list("subscription__url", flat=True)
    )


def test_each_event_is_queued_once_per_subscriber_of_the_coalition(coalition, org, petition, now):
    reach_milestone(petition, now)
    assert thresholds.check_thresholds(now=now) == 0
    assert deliveries(MILESTONE) == ["http://cohost.example/hook", "http://partner.example/hook"]

    outcomes.set_outcome(petition, outcome="won", statements={"en": "We won."}, now=now)
    # Editing the statement later is not a new outcome.
    outcomes.set_outcome(petition, outcome="won", statements={"en": "We won!"}, now=now)
    assert deliveries(OUTCOME) == [
        "http://cohost.example/hook",
        "http://own.example/hook",
        "http://partner.example/hook",
    ]
    payload = WebhookDelivery.objects.filter(event=OUTCOME).first().payload
    assert payload["data"]["outcome"]["state"] == "won"
    assert payload["data"]["outcome"]["statement"] == "We won."

    target = DecisionMaker.objects.create(
        organization=org.organization, name="ExampleSocial", position="Owner"
    )
    petition.targets.add(target)
    response = responses.record_response(
        petition,
        decision_maker=target,
        body="We will look into it.",
        language="en",
        responded_on=now.date(),
        now=now,
    )
    assert deliveries(RESPONSE) == ["http://cohost.example/hook", "http://partner.example/hook"]
    data = WebhookDelivery.objects.filter(event=RESPONSE).first().payload["data"]
    assert data["response"]["name"] == "ExampleSocial"
    assert data["response"]["position"] == "Owner"
    assert data["response"]["url"].endswith(f"#response-{response.pk}")
    assert not WebhookDelivery.objects.filter(subscription=coalition["outsider"]).exists()


def test_a_response_given_through_its_link_is_queued(coalition, org, petition, now):
    target = DecisionMaker.objects.create(
        organization=org.organization, name="ExampleSocial", email="ceo@social.example"
    )
    petition.targets.add(target)
    responses.request_responses(petition, now=now)
    # The link's token is only in the (encrypted) mail: give the request a known one.
    token, token_hash = responses._token()
    ResponseRequest.objects.filter(petition=petition).update(token_hash=token_hash)
    responses.respond(petition, token, body="Yes.", language="en", now=now)
    assert deliveries(RESPONSE) == ["http://cohost.example/hook", "http://partner.example/hook"]


def test_queueing_the_same_event_again_adds_nothing(coalition, petition, now):
    payload = {"petition": webhooks.petition_data(petition)}
    assert webhooks.queue_event(MILESTONE, petition, payload, key="k", now=now) == 2
    assert webhooks.queue_event(MILESTONE, petition, payload, key="k", now=now) == 0
    assert WebhookDelivery.objects.count() == 2


# --- the address guard (SSRF) ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://[::1]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "http://partner.example/hook",
        "https://user:secret@partner.example/hook",
        "ftp://partner.example/hook",
        "https:///hook",
        "https://partner.example:99999/hook",
        "partner.example/hook",
    ],
)
def test_it_refuses_private_and_malformed_addresses(db, monkeypatch, url):
    monkeypatch.setattr(webhook_delivery, "resolve", lambda host, port: ["93.184.215.14"])
    with pytest.raises(webhooks.WebhookRefused):
        webhooks.check_url(url)


def test_it_refuses_a_name_that_resolves_to_a_private_address(db, monkeypatch):
    monkeypatch.setattr(webhook_delivery, "resolve", lambda host, port: ["93.184.215.14"])
    assert webhooks.check_url("https://partner.example/hook") == "https://partner.example/hook"
    monkeypatch.setattr(
        webhook_delivery, "resolve", lambda host, port: ["93.184.215.14", "10.1.2.3"]
    )
    with pytest.raises(webhooks.WebhookRefused, match="private"):
        webhooks.check_url("https://partner.example/hook")


def test_a_name_that_turns_private_later_is_not_reached(db, org, petition, monkeypatch, now):
    """DNS rebinding: the address is checked again at each delivery, and the request
    goes to the checked address."""
    monkeypatch.setattr(webhook_delivery, "resolve", lambda host, port: ["93.184.215.14"])
    subscribe(org.organization, "https://partner.example/hook", now=now)
    reach_milestone(petition, now)
    monkeypatch.setattr(webhook_delivery, "resolve", lambda host, port: ["127.0.0.1"])
    sent = []

    class Client:
        def build_request(self, *args, **kwargs):
            sent.append(args)

    assert webhooks.deliver_due(now=now, client=Client()) == 0
    assert sent == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("queued", 1)
    assert "private" in delivery.last_error


# --- the owners' pages -------------------------------------------------------------------


@pytest.fixture
def owner_client(client, owner, allow_private):
    client.force_login(with_two_factor(owner))
    return client


def test_the_secret_is_shown_once(owner_client, org, receiver):
    url = f"/organize/org/{org.organization.slug}/webhooks"
    response = owner_client.post(f"{url}/new", {"url": receiver.url, "events": [MILESTONE]})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store" or "no-store" in response["Cache-Control"]
    subscription = WebhookSubscription.objects.get()
    secret = webhooks.secret_of(subscription)
    assert secret in response.content.decode()

    page = owner_client.get(url)
    assert page.status_code == 200
    assert receiver.url in page.content.decode()
    assert secret not in page.content.decode()

    assert owner_client.post(f"{url}/{subscription.pk}/test").status_code == 302
    assert webhooks.deliver_due() == 1
    assert "ping" in owner_client.get(url).content.decode()
    assert owner_client.post(f"{url}/{subscription.pk}/delete").status_code == 302
    assert not WebhookSubscription.objects.exists()
    logged = AuditEvent.objects.filter(organization=org.organization)
    assert {"webhook_added", "webhook_removed"} <= set(logged.values_list("action", flat=True))


def test_an_outsider_cannot_touch_our_webhook(client, outsider, org, receiver):
    subscription, _secret = subscribe(org.organization, receiver.url)
    client.force_login(with_two_factor(outsider))
    url = f"/organize/org/{org.organization.slug}/webhooks/{subscription.pk}/delete"
    assert client.post(url).status_code == 404
    assert WebhookSubscription.objects.exists()


@hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    url=st.one_of(
        st.text(max_size=600),
        st.sampled_from(["https://", "http://[::1", "https://a b/", "https://x.example:0/"]),
        st.builds(lambda tail: f"https://{tail}", st.text(max_size=80)),
    ),
    events=st.lists(st.one_of(st.sampled_from(WebhookEvent.values), st.text(max_size=20))),
)
def test_a_bad_form_is_a_400_never_a_500(owner_client, org, monkeypatch, url, events):
    def no_dns(host, port):
        raise OSError("no DNS in tests")

    monkeypatch.setattr(webhook_delivery, "resolve", no_dns)
    response = owner_client.post(
        f"/organize/org/{org.organization.slug}/webhooks/new", {"url": url, "events": events}
    )
    assert response.status_code == 400


def test_a_moderator_closing_a_petition_tells_the_partners(coalition, client, moderator, petition):
    client.force_login(moderator)
    url = reverse("organize:moderate", args=[petition.slug, "close"])
    assert client.post(url).status_code == 302
    petition.refresh_from_db()
    assert petition.state == "closed"
    assert deliveries(OUTCOME) == [
        "http://cohost.example/hook",
        "http://own.example/hook",
        "http://partner.example/hook",
    ]
    # Closing again is refused as before, and queues nothing new.
    client.post(url)
    assert WebhookDelivery.objects.filter(event=OUTCOME).count() == 3
