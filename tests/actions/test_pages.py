"""The public pages of days of action and events, the RSVP flow through the real SMTP
server, the organisers' pages with a host partner, and the sealed attendee list."""

import csv
import email
import email.policy
import re
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hamseda.actions import services
from hamseda.actions.models import Rsvp, RsvpState
from hamseda.integrity.models import AuditAction, AuditEvent
from hamseda.orgs import services as org_services
from hamseda.orgs.models import Role
from hamseda.vault.decrypt import decrypt_export
from tests.actions.factories import add_partner, make_campaign, make_day, make_event
from tests.conftest import PASSWORD, make_org, run_tasks, with_two_factor
from tests.mail.test_delivery import free_port
from tests.vault.test_export import write_key_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(org):
    return make_campaign(org.organization)


@pytest.fixture
def day(campaign):
    return make_day(campaign)


@pytest.fixture
def event(day):
    return make_event(day)


def form_data(number: int = 1, **overrides) -> dict:
    return {
        "first_name": "Maryam",
        "last_name": f"Attendee{number}",
        "email": f"attendee{number}@example.org",
        "wants_notices": "on",
        **overrides,
    }


# --- public pages -------------------------------------------------------------------------


def test_the_day_page_groups_events_by_country_and_city(client, day, event):
    make_event(day, "sf", city="San Francisco", country="US", time_zone="America/Los_Angeles")
    cancelled = make_event(
        day, "stockholm", city="Stockholm", country="SE", time_zone="Europe/Stockholm"
    )
    services.cancel_event(cancelled)
    make_event(
        day, "draft-event", city="Oslo", country="NO", time_zone="Europe/Oslo", publish=False
    )
    response = client.get(reverse("actions:day", args=[day.campaign.slug, day.slug]))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("Sweden") < body.index("United Kingdom") < body.index("United States")
    assert "San Francisco" in body
    assert "Cancelled" in body
    assert "Oslo" not in body
    assert reverse("actions:event", args=["sf"]) in body


def test_the_day_page_speaks_dari(client, day, event):
    response = client.get("/fa" + reverse("actions:day", args=[day.campaign.slug, day.slug]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'dir="rtl"' in body
    assert "روز اقدام" in body
    assert "تظاهرات در لندن" in body


def test_a_draft_day_is_not_found(client, campaign):
    draft = make_day(campaign, "draft-day", publish=False)
    assert client.get(reverse("actions:day", args=[campaign.slug, draft.slug])).status_code == 404
    assert client.get(reverse("actions:day", args=["other", "x"])).status_code == 404


def test_the_event_page_shows_everything_and_the_form(client, event):
    response = client.get(reverse("actions:event", args=[event.slug]))
    body = response.content.decode()
    assert response.status_code == 200
    for text in (
        "By the north gate",
        "Step-free access",
        "Water and a sign",
        "Cover your face",
        "Alliance",
        "wants_notices",
        "locked with the server",
    ):
        assert text in body, text
    assert reverse("calendar:event_ics", args=[event.slug]) in body
    assert 'name="website"' in body
    assert 'name="started"' in body


def test_a_draft_event_is_not_found(client, day):
    draft = make_event(day, "draft", publish=False)
    assert client.get(reverse("actions:event", args=[draft.slug])).status_code == 404


def test_the_campaign_page_lists_the_days(client, day, event):
    from hamseda.actions.templatetags.campaign_actions import campaign_days

    context = campaign_days(day.campaign)
    assert [row["day"] for row in context["days"]] == [day]


def test_an_rsvp_through_the_page_says_check_your_inbox(client, event, outbox):
    response = client.post(reverse("actions:rsvp", args=[event.slug]), form_data())
    assert response.status_code == 200
    assert "check your inbox" in response.content.decode()
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    # Again: the very same page, never telling whether the address had RSVPed.
    again = client.post(reverse("actions:rsvp", args=[event.slug]), form_data())
    assert again.status_code == 200
    assert Rsvp.objects.count() == 1


def test_a_full_event_says_so(client, day):
    small = make_event(day, "small", capacity=1)
    type(small).objects.filter(pk=small.pk).update(attendee_count=1)
    response = client.post(reverse("actions:rsvp", args=[small.slug]), form_data())
    assert response.status_code == 409
    assert "This event is full" in response.content.decode()


def test_a_cancelled_event_refuses_rsvps(client, event):
    services.cancel_event(event)
    response = client.post(reverse("actions:rsvp", args=[event.slug]), form_data())
    assert response.status_code == 409
    assert "cancelled" in response.content.decode()


def test_the_honeypot_and_throwaway_addresses_are_refused(client, event):
    url = reverse("actions:rsvp", args=[event.slug])
    assert client.post(url, form_data(website="http://spam")).status_code == 429
    assert client.post(url, form_data(email="x@mailinator.com")).status_code == 429
    assert not Rsvp.objects.exists()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fields=st.dictionaries(
        st.sampled_from(["first_name", "last_name", "email", "wants_notices", "started"]),
        st.text(max_size=300),
    )
)
def test_hostile_input_gets_a_4xx_or_the_inbox_page(client, event, fields):
    response = client.post(reverse("actions:rsvp", args=[event.slug]), fields)
    assert response.status_code in {200, 400, 409, 429}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(token=st.text(max_size=300))
def test_hostile_tokens_are_not_found(client, event, token):
    for name in ("actions:confirm", "actions:withdraw"):
        quoted = token.replace("/", "")
        if not quoted:
            continue
        response = client.get(reverse(name, args=[event.slug, quoted]))
        assert response.status_code in {404, 410}


# --- the whole flow through a real mail server --------------------------------------------


class Collector:
    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


@pytest.fixture
def smtp(settings):
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_URL = f"smtp://127.0.0.1:{controller.port}"
    yield handler
    controller.stop()


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_rsvp_confirm_and_withdraw_through_smtp(client, event, smtp):
    client.post(reverse("actions:rsvp", args=[event.slug]), form_data())
    run_tasks()
    (mail,) = smtp.received
    assert mail["To"] == "attendee1@example.org"
    text = body_of(mail)
    assert "Cover your face" in text
    assert "By the north gate" in text
    confirm = re.search(r"http\S+/confirm/\S+", text).group(0)
    withdraw = re.search(r"http\S+/withdraw/\S+", text).group(0)
    path = (
        confirm.split("testserver", 1)[-1]
        if "testserver" in confirm
        else re.sub(r"^https?://[^/]+", "", confirm)
    )
    response = client.get(path)
    assert response.status_code == 200
    assert "See you there" in response.content.decode()
    event.refresh_from_db()
    assert event.attendee_count == 1
    assert client.get(path).status_code == 200  # Twice: counted once.
    event.refresh_from_db()
    assert event.attendee_count == 1
    withdraw_path = re.sub(r"^https?://[^/]+", "", withdraw)
    assert client.get(withdraw_path).status_code == 200
    assert Rsvp.objects.filter(state=RsvpState.CONFIRMED).count() == 1
    assert client.post(withdraw_path).status_code == 200
    assert not Rsvp.objects.exists()
    event.refresh_from_db()
    assert event.attendee_count == 0
    assert client.post(withdraw_path).status_code == 410


def test_a_change_reaches_attendees_in_their_language_through_smtp(client, event, smtp):
    client.post("/fa" + reverse("actions:rsvp", args=[event.slug]), form_data())
    run_tasks()
    confirm = re.search(r"http\S+/confirm/\S+", body_of(smtp.received[0])).group(0)
    client.get(re.sub(r"^https?://[^/]+", "", confirm))
    from tests.actions.factories import edit_event

    edit_event(event, venue="Trafalgar Square")
    run_tasks()
    notice = smtp.received[-1]
    assert notice["Content-Language"] == "fa"
    assert "Trafalgar Square" in body_of(notice)


# --- organisers and host partners ---------------------------------------------------------


@pytest.fixture
def partner(campaign):
    keys = make_org("partner-org")
    add_partner(campaign, keys.organization)
    return keys


def member(organization, address, role=Role.ORGANIZER):
    return org_services.create_organizer(
        email=address, password=PASSWORD, organization=organization, role=role
    )


def test_a_partner_member_manages_the_events_it_hosts_only(client, day, event, partner):
    hosted = make_event(
        day,
        "stockholm",
        host=partner.organization,
        city="Stockholm",
        country="SE",
        time_zone="Europe/Stockholm",
    )
    user = member(partner.organization, "p@example.org")
    client.force_login(user)
    assert client.get(reverse("actions:organize_event", args=[hosted.slug])).status_code == 200
    assert client.get(reverse("actions:organize_event_edit", args=[hosted.slug])).status_code == 200
    assert client.get(reverse("actions:organize_event", args=[event.slug])).status_code == 404
    assert client.get(reverse("actions:organize_day", args=[day.slug])).status_code == 404
    listing = client.get(reverse("actions:organize_list")).content.decode()
    assert "stockholm" in listing
    assert "london-protest" not in listing


def test_an_organiser_creates_a_day_and_an_event(client, campaign, org):
    user = member(org.organization, "o@example.org")
    client.force_login(user)
    date = (services.timezone.now() + timedelta(days=20)).date()
    response = client.post(
        reverse("actions:organize_days", args=[campaign.slug]),
        {"slug": "new-day", "date": date.isoformat(), "en-title": "New day", "fa-title": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(
        reverse("actions:organize_event_new", args=["new-day"]),
        {
            "slug": "new-event",
            "host": org.organization.pk,
            "city": "London",
            "country": "GB",
            "venue": "Office",
            "starts_at": f"{date.isoformat()}T12:00",
            "ends_at": f"{date.isoformat()}T14:00",
            "time_zone": "Europe/Atlantis",
            "en-title": "Protest",
        },
    )
    assert response.status_code == 400
    assert "not a time zone we know" in response.content.decode()


def test_the_attendee_list_opens_with_the_hosts_key(client, day, partner, tmp_path):
    hosted = make_event(
        day,
        "stockholm",
        host=partner.organization,
        city="Stockholm",
        country="SE",
        time_zone="Europe/Stockholm",
    )
    client.post(reverse("actions:rsvp", args=[hosted.slug]), form_data(first_name="Ahmad"))
    user = with_two_factor(member(partner.organization, "p@example.org", Role.OWNER))
    client.force_login(user)
    url = reverse("actions:organize_attendees", args=[hosted.slug])
    assert client.get(url).status_code == 200
    response = client.post(url)
    assert response.status_code == 200
    export_file = tmp_path / "attendees.jsonl"
    export_file.write_bytes(b"".join(response.streaming_content))
    key = write_key_file(tmp_path / "p.key", "partner-org", partner.secret_key)
    out = tmp_path / "out.csv"
    assert decrypt_export(export_file, [key], out) == 1
    (row,) = list(csv.DictReader(out.open()))
    assert "Ahmad" in row.values()
    assert "attendee1@example.org" in row.values()
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, subject="stockholm").exists()


def test_the_campaign_org_cannot_take_a_partners_attendee_list(client, day, partner, org):
    hosted = make_event(
        day,
        "stockholm",
        host=partner.organization,
        city="Stockholm",
        country="SE",
        time_zone="Europe/Stockholm",
    )
    user = with_two_factor(member(org.organization, "o@example.org", Role.OWNER))
    client.force_login(user)
    url = reverse("actions:organize_attendees", args=[hosted.slug])
    assert client.get(url).status_code == 403
    assert client.get(reverse("actions:organize_event", args=[hosted.slug])).status_code == 200


@pytest.mark.parametrize("prefix", ["", "/fa", "/ps"])
def test_the_campaign_page_links_its_days_and_calendar(client, day, event, prefix):
    response = client.get(f"{prefix}/c/{day.campaign.slug}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f"/c/{day.campaign.slug}/days/{day.slug}/" in body
    assert f"/c/{day.campaign.slug}/events.ics" in body
