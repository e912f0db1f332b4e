"""The permission matrix (PRIVACY.md rule 7): every organizer URL × every persona.

Personas: anonymous; `stranger`, logged in but in no organisation; `outsider`, owner of
another organisation; and each role of the petition's organisation, with and without
two-factor login. Each cell runs on a fresh database, so a POST that is allowed in one
cell cannot change what another cell sees.

`test_every_organizer_url_is_in_the_matrix` fails when a new organizer URL is added
without its row here.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from hamseda.orgs import services as org_services
from hamseda.orgs.models import Membership, Role
from tests.conftest import PASSWORD, make_org, make_petition
from tests.two_factor import enable_two_factor

OWNER, ORGANIZER, MODERATOR, ANALYST = Role.OWNER, Role.ORGANIZER, Role.MODERATOR, Role.ANALYST
EVERYONE = {OWNER, ORGANIZER, MODERATOR, ANALYST}


@dataclass(frozen=True)
class Route:
    name: str
    args: tuple = ()  # names of values from the scene: "petition", "org", "member"
    method: str = "get"
    roles: frozenset = frozenset(EVERYONE)
    two_factor: bool = False
    # Pages not about one organisation: outsiders and strangers get their own (empty)
    # view or a 403, never our data.
    generic: bool = False
    # The allowed user's answer, when not 200 (GET) or 302 (POST).
    ok: int | None = None


ROUTES = [
    Route("organize:dashboard", generic=True),
    Route("organize:create", roles=frozenset({OWNER, ORGANIZER}), generic=True),
    Route("organize:queue", roles=frozenset({OWNER, MODERATOR}), generic=True),
    Route("organize:petition", ("petition",)),
    Route("organize:preview", ("petition",)),
    Route("organize:edit", ("petition",), roles=frozenset({OWNER, ORGANIZER})),
    Route("organize:submit", ("petition",), "post", frozenset({OWNER, ORGANIZER})),
    Route("organize:moderate", ("submitted", "approve"), "post", frozenset({OWNER, MODERATOR})),
    Route("orgs:members", ("org",), roles=frozenset({OWNER}), two_factor=True),
    Route("orgs:change_role", ("org", "member"), "post", frozenset({OWNER}), two_factor=True),
    Route("orgs:remove_member", ("org", "member"), "post", frozenset({OWNER}), two_factor=True),
    Route("orgs:keys", ("org",), roles=frozenset({OWNER}), two_factor=True),
    # An empty post is not a key: 400 for the owner who may post one.
    Route("orgs:adopt_key", ("org",), "post", frozenset({OWNER}), two_factor=True, ok=400),
    Route("orgs:generate_key", ("org",), "post", frozenset({OWNER}), two_factor=True, ok=200),
    Route("export:signatures", ("petition",), roles=frozenset({OWNER, ORGANIZER}), two_factor=True),
    Route(
        "export:signatures",
        ("petition",),
        "post",
        frozenset({OWNER, ORGANIZER}),
        two_factor=True,
        ok=200,
    ),
    Route("export:decrypt", generic=True),
    Route("audit:log", ("org",), roles=frozenset({OWNER}), two_factor=True),
    Route("audit:csv", ("org",), roles=frozenset({OWNER}), two_factor=True),
    Route("integrity:page", ("petition",), roles=frozenset({OWNER, MODERATOR})),
    Route("integrity:invalidate", ("petition",), roles=frozenset({OWNER, MODERATOR})),
    # An empty post has no reason and no criteria: the form again, with a 400.
    Route("integrity:invalidate", ("petition",), "post", frozenset({OWNER, MODERATOR}), ok=400),
    # No invalidation has the member's id: a 404, but only after the role was checked.
    Route("integrity:undo", ("petition", "member"), "post", frozenset({OWNER, MODERATOR}), ok=404),
    Route("kit:design", ("campaign",), roles=frozenset({OWNER, ORGANIZER})),
    # An empty post has no colours: the form again, with a 400.
    Route("kit:design", ("campaign",), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    Route(
        "kit:design_preview",
        ("campaign", "petition", "size", "language"),
        roles=frozenset({OWNER, ORGANIZER}),
    ),
    # Issue 8 — updates and their pages (scene: "petition", "open", "update").
    Route("updates:organize_list", ("open",), roles=frozenset({OWNER, ORGANIZER})),
    Route("updates:new", ("open",), roles=frozenset({OWNER, ORGANIZER})),
    # An empty post has no text: the form again, with a 400.
    Route("updates:new", ("open",), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    Route("updates:edit", ("open", "update"), roles=frozenset({OWNER, ORGANIZER})),
    Route("updates:edit", ("open", "update"), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    Route("updates:publish", ("open", "update"), "post", frozenset({OWNER, ORGANIZER})),
    # Refused (a mail-out of it is a draft; it is published), with a message: a redirect.
    Route("updates:unpublish", ("open", "update"), "post", frozenset({OWNER, ORGANIZER})),
    Route("updates:delete", ("open", "update"), "post", frozenset({OWNER, ORGANIZER})),
    # Issue 8 — mail-outs (scene: "open", "mailout").
    Route("mailouts:list", ("open",), roles=frozenset({OWNER, ORGANIZER}), two_factor=True),
    Route("mailouts:new", ("open",), roles=frozenset({OWNER, ORGANIZER}), two_factor=True),
    # An empty post counts everybody: the form again with the count.
    Route(
        "mailouts:new", ("open",), "post", frozenset({OWNER, ORGANIZER}), two_factor=True, ok=200
    ),
    Route("mailouts:rate", ("org",), roles=frozenset({OWNER}), two_factor=True),
    Route("mailouts:rate", ("org",), "post", frozenset({OWNER}), two_factor=True, ok=400),
    Route("mailouts:detail", ("mailout",), roles=frozenset({OWNER, ORGANIZER}), two_factor=True),
    Route("mailouts:progress", ("mailout",), roles=frozenset({OWNER, ORGANIZER}), two_factor=True),
    Route("mailouts:queue", ("mailout",), "post", frozenset({OWNER, ORGANIZER}), two_factor=True),
    # No key posted: the page again with a message.
    Route(
        "mailouts:start",
        ("mailout",),
        "post",
        frozenset({OWNER, ORGANIZER}),
        two_factor=True,
        ok=400,
    ),
    # Not running: refused with a message, a redirect.
    Route("mailouts:pause", ("mailout",), "post", frozenset({OWNER, ORGANIZER}), two_factor=True),
    Route("mailouts:cancel", ("mailout",), "post", frozenset({OWNER, ORGANIZER}), two_factor=True),
    # No address: the page again with the form's error.
    Route(
        "mailouts:test",
        ("mailout",),
        "post",
        frozenset({OWNER, ORGANIZER}),
        two_factor=True,
        ok=400,
    ),
    # Issue 8 — milestones, responses, outcome (scene: "open", "response", "threshold").
    Route("outcomes:milestones", ("open",), roles=frozenset({OWNER, ORGANIZER})),
    # An empty post has no count: the form again, with a 400.
    Route("outcomes:milestones", ("open",), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    Route(
        "outcomes:remove_milestone", ("open", "threshold"), "post", frozenset({OWNER, ORGANIZER})
    ),
    Route("outcomes:responses", ("open",), roles=frozenset({OWNER, ORGANIZER})),
    # An empty post names no decision-maker: the page again, with a 400.
    Route("outcomes:responses", ("open",), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    Route("outcomes:request_responses", ("open",), "post", frozenset({OWNER, ORGANIZER})),
    # An empty post has no response: the page again, with a 400.
    Route("outcomes:record_response", ("open",), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    Route("outcomes:toggle_response", ("open", "response"), "post", frozenset({OWNER, ORGANIZER})),
    # Won/closed was the moderators'; the statement is the editors': both may.
    Route("outcomes:outcome", ("open",), roles=frozenset({OWNER, ORGANIZER, MODERATOR})),
    # An empty post chooses no outcome: the form again, with a 400.
    Route("outcomes:outcome", ("open",), "post", frozenset({OWNER, ORGANIZER, MODERATOR}), ok=400),
    # Issue 8 — delivery document (scene: "open").
    Route("delivery:document", ("open",), roles=frozenset({OWNER, ORGANIZER})),
    # An empty post chooses no language: the form again, with a 400 (no PDF is made).
    Route("delivery:document", ("open",), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    # Issue 7 — days of action and events (scene: "campaign", "day", "event").
    Route("actions:organize_list", generic=True),
    Route("actions:organize_days", ("campaign",), roles=frozenset({OWNER, ORGANIZER})),
    # An empty post has no address, date or title: the form again, with a 400.
    Route("actions:organize_days", ("campaign",), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    Route("actions:organize_day", ("day",), roles=frozenset({OWNER, ORGANIZER})),
    Route("actions:organize_day_edit", ("day",), roles=frozenset({OWNER, ORGANIZER})),
    Route("actions:organize_day_edit", ("day",), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    # Already published: refused with a message, a redirect.
    Route("actions:organize_day_publish", ("day",), "post", frozenset({OWNER, ORGANIZER})),
    Route("actions:organize_day_cancel", ("day",), "post", frozenset({OWNER, ORGANIZER})),
    Route("actions:organize_event_new", ("day",), roles=frozenset({OWNER, ORGANIZER})),
    Route("actions:organize_event_new", ("day",), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    Route("actions:organize_event", ("event",)),
    Route("actions:organize_event_edit", ("event",), roles=frozenset({OWNER, ORGANIZER})),
    Route("actions:organize_event_edit", ("event",), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    Route("actions:organize_event_publish", ("event",), "post", frozenset({OWNER, ORGANIZER})),
    Route("actions:organize_event_cancel", ("event",), "post", frozenset({OWNER, ORGANIZER})),
    Route(
        "actions:organize_attendees",
        ("event",),
        roles=frozenset({OWNER, ORGANIZER}),
        two_factor=True,
    ),
    Route(
        "actions:organize_attendees",
        ("event",),
        "post",
        frozenset({OWNER, ORGANIZER}),
        two_factor=True,
        ok=200,
    ),
    # Issue 7 — coalition partners (scene: "campaign", "partnership", "org").
    Route("partners:list", ("campaign",), roles=frozenset({OWNER, ORGANIZER})),
    # An empty post names no organisation: the form again, with a 400.
    Route("partners:list", ("campaign",), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    Route("partners:edit", ("partnership",), roles=frozenset({OWNER, ORGANIZER})),
    # Every field is optional: an empty post saves (clears the link and description).
    Route("partners:edit", ("partnership",), "post", frozenset({OWNER, ORGANIZER})),
    Route("partners:remove", ("partnership",), "post", frozenset({OWNER, ORGANIZER})),
    Route("partners:mine", generic=True),
    # Our organisation is not a partner of its own campaign: nothing to export, a 404,
    # but only after the export role and two-factor login were checked.
    Route(
        "partners:contacts",
        ("org", "campaign"),
        roles=frozenset({OWNER, ORGANIZER}),
        two_factor=True,
        ok=404,
    ),
    Route(
        "partners:contacts",
        ("org", "campaign"),
        "post",
        frozenset({OWNER, ORGANIZER}),
        two_factor=True,
        ok=404,
    ),
    # Issue 7 — newsroom (scene: "campaign", "release" (a draft), "author", "org").
    Route("newsroom:organize_list", ("campaign",), roles=frozenset({OWNER, ORGANIZER})),
    Route("newsroom:new", ("campaign",), roles=frozenset({OWNER, ORGANIZER})),
    # An empty post has no slug and no text: the form again, with a 400.
    Route("newsroom:new", ("campaign",), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    Route("newsroom:edit", ("release",), roles=frozenset({OWNER, ORGANIZER})),
    Route("newsroom:edit", ("release",), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    Route("newsroom:preview", ("release",), roles=frozenset({OWNER, ORGANIZER})),
    Route("newsroom:publish", ("release",), "post", frozenset({OWNER, ORGANIZER})),
    # A draft is not published: nothing to do, a redirect.
    Route("newsroom:unpublish", ("release",), "post", frozenset({OWNER, ORGANIZER})),
    Route("newsroom:authors", ("org",), roles=frozenset({OWNER, ORGANIZER})),
    Route("newsroom:author_new", ("org",), roles=frozenset({OWNER, ORGANIZER})),
    # An empty post has no name: the form again, with a 400.
    Route("newsroom:author_new", ("org",), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    Route("newsroom:author_edit", ("author",), roles=frozenset({OWNER, ORGANIZER})),
    Route("newsroom:author_edit", ("author",), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    # Pulse (issue 6): settings and sources for editors, moderation for moderators too,
    # the posts export for everyone who sees numbers.
    Route("pulse:organize", ("campaign",), roles=frozenset({OWNER, ORGANIZER})),
    Route("pulse:add_source", ("campaign",), "post", frozenset({OWNER, ORGANIZER}), ok=400),
    Route("pulse:remove_source", ("source",), "post", frozenset({OWNER, ORGANIZER})),
    Route("pulse:pause_source", ("source",), "post", frozenset({OWNER, ORGANIZER})),
    # No token posted: refused with a message, a redirect.
    Route("pulse:replace_token", ("source",), "post", frozenset({OWNER, ORGANIZER})),
    Route("pulse:posts", ("campaign",), roles=frozenset({OWNER, ORGANIZER, MODERATOR})),
    Route("pulse:hide_post", ("post",), "post", frozenset({OWNER, ORGANIZER, MODERATOR})),
    Route("pulse:export", ("campaign",)),
    # Partner API keys and webhooks (issue 9): owners with two-factor login.
    Route("apikeys:list", ("org",), roles=frozenset({OWNER}), two_factor=True),
    Route("apikeys:create", ("org",), "post", frozenset({OWNER}), two_factor=True, ok=400),
    Route("apikeys:revoke", ("org", "apikey"), "post", frozenset({OWNER}), two_factor=True),
    Route("apikeys:webhooks", ("org",), roles=frozenset({OWNER}), two_factor=True),
    Route("apikeys:create_webhook", ("org",), "post", frozenset({OWNER}), two_factor=True, ok=400),
    Route(
        "apikeys:delete_webhook", ("org", "webhook"), "post", frozenset({OWNER}), two_factor=True
    ),
    Route("apikeys:test_webhook", ("org", "webhook"), "post", frozenset({OWNER}), two_factor=True),
]

PERSONAS = ["anonymous", "stranger", "outsider"] + [
    f"{role}{suffix}" for role in EVERYONE for suffix in ("", "+2fa")
]


def organizer_url_names() -> set[str]:
    """Every named URL whose path starts with organize/, from the live URL conf."""
    names = set()

    def walk(patterns, prefix: str, namespace: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                path = (prefix + str(pattern.pattern)).lstrip("^")
                if path.startswith("organize/"):
                    names.add(namespace + pattern.name)

    walk(get_resolver().url_patterns, "", "")
    return names


def test_every_organizer_url_is_in_the_matrix():
    assert organizer_url_names() == {route.name for route in ROUTES}


def _outcome_scene(organization) -> dict:
    """An open petition with a signer who wants updates, a published update, a mail-out
    of it waiting for the key, a milestone and a decision-maker's response (issue 8)."""
    from django.utils import timezone

    from hamseda.mail.models import Mailout
    from hamseda.petitions import services
    from hamseda.petitions.models import (
        DecisionMaker,
        Response,
        ResponseSource,
        Threshold,
        Update,
        UpdateTranslation,
    )
    from tests.conftest import signer

    now = timezone.now()
    petition = make_petition(organization, "is-open")
    services.record_confirmed_signature(petition, signer(keep_updated=True), now=now)
    update = Update.objects.create(petition=petition, created_at=now, published_at=now)
    UpdateTranslation.objects.create(update=update, language="en", title="News", body="Text")
    target = DecisionMaker.objects.create(organization=organization, name="ExampleSocial")
    petition.targets.add(target)
    response = Response.objects.create(
        petition=petition,
        decision_maker=target,
        body="We will look into it.",
        responded_on=now.date(),
        source=ResponseSource.OFFLINE,
        created_at=now,
    )
    threshold = Threshold.objects.create(petition=petition, count=10_000, created_at=now)
    mailout = Mailout.objects.create(
        organization=organization, petition=petition, update=update, created_at=now
    )
    return {
        "open": petition.slug,
        "update": update.pk,
        "response": response.pk,
        "threshold": threshold.pk,
        "mailout": mailout.pk,
    }


# Scene values only the issue 8 and 7 routes use; the rest of the matrix does without them.
OUTCOME_VALUES = {"open", "update", "response", "threshold", "mailout"}
CAMPAIGN_VALUES = {"day", "event", "release", "author", "partnership"}
PULSE_API_VALUES = {"source", "post", "apikey", "webhook"}


def _pulse_api_scene(organization, campaign) -> dict:
    """A pulse source and a post of the campaign, an API key and a webhook of our
    organisation (issues 6 and 9)."""
    from django.utils import timezone

    from hamseda.api.models import ApiKey, WebhookSubscription
    from hamseda.pulse.models import Post, Source

    now = timezone.now()
    source = Source.objects.create(
        campaign=campaign,
        platform="mastodon",
        query="BanTaliban",
        base_url="https://mastodon.example",
        created_at=now,
    )
    post = Post.objects.create(
        campaign=campaign,
        platform="mastodon",
        platform_id="https://mastodon.example/1",
        author_id="1",
        author_handle="someone@mastodon.example",
        created_at=now,
        updated_at=now,
    )
    key = ApiKey.objects.create(
        organization=organization,
        name="Website",
        prefix="abcd1234",
        key_hash="0" * 64,
        scopes="sign",
        created_at=now,
    )
    webhook = WebhookSubscription.objects.create(
        organization=organization,
        url="https://partner.example/hook",
        events="petition.milestone",
        locked_secret=b"",
        created_at=now,
    )
    return {"source": source.pk, "post": post.pk, "apikey": key.pk, "webhook": webhook.pk}


def _campaign_scene(organization, campaign) -> dict:
    """A published day of action with one published event hosted by our organisation,
    a draft press release with its author, and a coalition partner (issue 7)."""
    from datetime import timedelta

    from django.utils import timezone

    from hamseda.actions.models import (
        DayOfAction,
        DayOfActionTranslation,
        Event,
        EventTranslation,
        PublicationState,
    )
    from hamseda.campaigns.models import CampaignPartner
    from hamseda.newsroom.models import Author, PressRelease, PressReleaseTranslation

    now = timezone.now()
    day = DayOfAction.objects.create(
        campaign=campaign,
        slug="day-of-action",
        date=(now + timedelta(days=30)).date(),
        state=PublicationState.PUBLISHED,
        created_at=now,
        published_at=now,
    )
    DayOfActionTranslation.objects.create(day=day, language="en", title="Day of action")
    event = Event.objects.create(
        day=day,
        slug="london-protest",
        host=organization,
        city="London",
        country="GB",
        venue="Outside the office",
        starts_at=now + timedelta(days=30),
        ends_at=now + timedelta(days=30, hours=2),
        time_zone="Europe/London",
        state=PublicationState.PUBLISHED,
        created_at=now,
        updated_at=now,
        published_at=now,
    )
    EventTranslation.objects.create(event=event, language="en", title="Protest in London")
    author = Author.objects.create(organization=organization, name="Press Officer", created_at=now)
    release = PressRelease.objects.create(
        campaign=campaign, slug="a-release", author=author, created_at=now, updated_at=now
    )
    PressReleaseTranslation.objects.create(
        release=release, language="en", title="Protests in three cities", body="Text"
    )
    partner = make_org("partner-org").organization
    partnership = CampaignPartner.objects.create(
        campaign=campaign, organization=partner, created_at=now
    )
    return {
        "day": day.slug,
        "event": event.slug,
        "release": release.slug,
        "author": author.pk,
        "partnership": partnership.pk,
    }


def _scene(
    persona: str,
    *,
    outcomes: bool = True,
    campaign_things: bool = True,
    pulse_api_things: bool = True,
):
    """Our organisation with a submitted petition and a moderator to act on; the user."""
    keys = make_org()
    organization = keys.organization
    from hamseda.petitions import services

    petition = make_petition(organization, open_=False)  # a draft, to edit and submit
    submitted = make_petition(organization, "to-review", open_=False)
    services.submit_petition(submitted)  # to approve
    target = org_services.create_organizer(
        email="target@example.org",
        password=PASSWORD,
        organization=organization,
        role=MODERATOR,
    )
    values = {
        **(_outcome_scene(organization) if outcomes else {}),
        **(_campaign_scene(organization, petition.campaign) if campaign_things else {}),
        **(_pulse_api_scene(organization, petition.campaign) if pulse_api_things else {}),
        "petition": petition.slug,
        "submitted": submitted.slug,
        "org": organization.slug,
        "member": Membership.objects.get(user=target).pk,
        "approve": "approve",
        "campaign": petition.campaign.slug,
        "size": "card",
        "language": "en",
    }
    if persona == "anonymous":
        return values, None
    if persona == "stranger":
        return values, get_user_model().objects.create_user("stranger@example.org")
    if persona == "outsider":
        other = make_org("other-org").organization
        user = org_services.create_organizer(
            email="outsider@example.org", password=PASSWORD, organization=other
        )
        enable_two_factor(user)
        return values, user
    role, _, two_factor = persona.partition("+")
    user = org_services.create_organizer(
        email=f"{role}@example.org", password=PASSWORD, organization=organization, role=role
    )
    if two_factor:
        enable_two_factor(user)
    return values, user


def expected(route: Route, persona: str) -> int:
    if persona == "anonymous":
        return 302
    if persona in {"stranger", "outsider"}:
        if not route.generic:
            return 404
        if persona == "stranger" or route.name == "organize:create":
            return 403 if persona == "stranger" else 200
        return 200
    role, _, two_factor = persona.partition("+")
    if role not in route.roles:
        return 403
    if route.two_factor and not two_factor:
        return 403
    if route.ok is not None:
        return route.ok
    return 302 if route.method == "post" else 200


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: f"{route.method}-{route.name}")
def test_the_matrix(client, db, route, persona):
    values, user = _scene(
        persona,
        outcomes=bool(OUTCOME_VALUES & set(route.args)),
        campaign_things=bool(CAMPAIGN_VALUES & set(route.args)),
        pulse_api_things=bool(PULSE_API_VALUES & set(route.args)),
    )
    if user is not None:
        client.force_login(user)
    url = reverse(route.name, args=[values[name] for name in route.args])
    response = getattr(client, route.method)(url)
    want = expected(route, persona)
    assert response.status_code == want, (route.name, persona)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    body = content.decode(errors="replace")
    if want == 302 and persona == "anonymous":
        assert response.url.startswith(reverse("account_login"))
    if persona in {"stranger", "outsider"} and want != 404:
        # Never a trace of our petitions (a 404 page only echoes the address typed).
        assert values["petition"] not in body
        assert values["submitted"] not in body
        assert values.get("open", values["petition"]) not in body
    role, _, two_factor = persona.partition("+")
    if want == 403 and route.two_factor and role in route.roles and not two_factor:
        assert "Two-factor login needed" in body
