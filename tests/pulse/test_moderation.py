"""Hiding posts from the wall (audited, still counted), the moderation list and the
posts export with hashed authors."""

import csv
import io
import re

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hamseda.integrity.models import AuditAction, AuditEvent
from hamseda.pulse import export, moderation
from hamseda.pulse.ingest import ingest_records
from hamseda.pulse.models import PulseTotals
from hamseda.pulse.records import PostRecord
from tests.pulse.dashboard_data import NOW, RECORDS, at, make_scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(org):
    return make_scene(org.organization)


def hidden_total(campaign) -> int:
    return PulseTotals.objects.get(campaign=campaign, platform="").hidden


def test_hiding_a_post_counts_it_as_hidden_and_writes_the_audit_log(scene, owner):
    post = scene.posts[4]
    assert moderation.set_hidden(post, True, by=owner, now=NOW) is True
    post.refresh_from_db()
    assert post.hidden is True
    assert hidden_total(scene.campaign) == 2
    assert PulseTotals.objects.get(campaign=scene.campaign, platform="bluesky").hidden == 1
    assert PulseTotals.objects.get(campaign=scene.campaign, platform="").posts == 8
    event = AuditEvent.objects.get(action=AuditAction.POST_HIDDEN, actor_id=owner.pk)
    assert event.organization == scene.campaign.organization
    assert event.subject == f"{scene.campaign.slug} post {post.pk}"
    # No handle, author or address of the post in the log.
    assert "example_b1" not in str(event.details) + event.subject
    assert "did:plc" not in str(event.details) + event.subject


def test_hiding_twice_changes_and_logs_once(scene, owner):
    post = scene.posts[4]
    assert moderation.set_hidden(post, True, by=owner, now=NOW) is True
    assert moderation.set_hidden(post, True, by=owner, now=NOW) is False
    assert AuditEvent.objects.filter(action=AuditAction.POST_HIDDEN, actor_id=owner.pk).count() == 1
    assert moderation.set_hidden(post, False, by=owner, now=NOW) is True
    assert AuditEvent.objects.filter(action=AuditAction.POST_SHOWN).count() == 1
    assert hidden_total(scene.campaign) == 1


def hide_url(post) -> str:
    return reverse("pulse:hide_post", args=[post.pk])


def test_a_moderator_hides_and_shows_a_post_from_the_list(client, scene, moderator):
    client.force_login(moderator)
    posts_url = reverse("pulse:posts", args=[scene.campaign.slug])
    back = f"{posts_url}?q=%23afghanwomen"
    response = client.post(hide_url(scene.posts[1]), {"hide": "1", "next": back})
    assert response.status_code == 302
    assert response.url == back
    scene.posts[1].refresh_from_db()
    assert scene.posts[1].hidden is True
    # Without `hide`, the button toggles.
    client.post(hide_url(scene.posts[1]))
    scene.posts[1].refresh_from_db()
    assert scene.posts[1].hidden is False
    # A foreign `next` is not followed.
    response = client.post(hide_url(scene.posts[1]), {"next": "https://evil.example/"})
    assert response.url == posts_url


def test_an_analyst_cannot_hide_and_an_outsider_finds_nothing(client, scene, analyst, outsider):
    client.force_login(analyst)
    assert client.post(hide_url(scene.posts[1])).status_code == 403
    client.force_login(outsider)
    assert client.post(hide_url(scene.posts[1])).status_code == 404
    scene.posts[1].refresh_from_db()
    assert scene.posts[1].hidden is False


def listed(client, scene, **params) -> str:
    response = client.get(reverse("pulse:posts", args=[scene.campaign.slug]), params)
    assert response.status_code == 200
    return response.content.decode()


def numbers_in(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"Post (\d) ", html)]


def test_the_list_is_newest_first_and_searches_hashtags_and_handles(client, scene, owner):
    client.force_login(owner)
    assert numbers_in(listed(client, scene)) == [7, 9, 6, 5, 3, 2, 4, 1]  # no deleted 8
    assert numbers_in(listed(client, scene, q="#AfghanWomen")) == [6, 3, 1]
    assert numbers_in(listed(client, scene, q="＃letgirlslearn")) == [6, 4]
    assert numbers_in(listed(client, scene, q="@example_a")) == [9, 3, 2, 1]
    assert numbers_in(listed(client, scene, q="EXAMPLE_M")) == [7, 6]
    assert numbers_in(listed(client, scene, show="hidden")) == [9]
    assert numbers_in(listed(client, scene, show="shown")) == [7, 6, 5, 3, 2, 4, 1]
    assert numbers_in(listed(client, scene, q="#")) == []
    assert "No posts found." in listed(client, scene, q="#no-such tag")


def test_the_list_pages_without_counting(client, scene, owner, monkeypatch):
    monkeypatch.setattr("hamseda.pulse.views.organize.PAGE_SIZE", 3)
    client.force_login(owner)
    first = listed(client, scene, q="#bantaliban")
    assert numbers_in(first) == [7, 9, 6]
    assert "page=2" in first
    third = listed(client, scene, q="#bantaliban", page=3)
    assert numbers_in(third) == [4, 1]
    assert "Older posts" not in third
    assert "Newer posts" in third


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    params=st.dictionaries(
        st.sampled_from(["q", "show", "page", "authors", "other"]),
        st.one_of(st.text(max_size=300), st.integers().map(str)),
        max_size=4,
    )
)
def test_bad_list_and_export_parameters_get_a_4xx_never_a_500(client, scene, owner, params):
    client.force_login(owner)
    for name in ("pulse:posts", "pulse:export"):
        response = client.get(reverse(name, args=[scene.campaign.slug]), params)
        assert response.status_code in (200, 400)
        if response.streaming:
            b"".join(response.streaming_content)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(hide=st.text(max_size=20), back=st.text(max_size=200))
def test_bad_hide_requests_get_a_redirect_never_a_500(client, scene, moderator, hide, back):
    client.force_login(moderator)
    response = client.post(hide_url(scene.posts[2]), {"hide": hide, "next": back})
    assert response.status_code == 302
    assert not response.url.startswith(("http:", "https:", "//"))


def export_rows(client, scene, **params) -> list[list[str]]:
    response = client.get(reverse("pulse:export", args=[scene.campaign.slug]), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_export_hashes_the_authors_by_default(client, scene, analyst):
    client.force_login(analyst)
    rows = export_rows(client, scene)
    header, body = rows[0], rows[1:]
    assert header == export.HASHED_COLUMNS
    assert len(body) == 8  # the deleted post is left out; the hidden one is in
    text = "\n".join(",".join(row) for row in rows)
    for record in RECORDS:
        assert record.author_handle not in text
        assert record.url not in text
        assert record.platform_id not in text
    authors = [row[header.index("author")] for row in body]
    assert all(re.fullmatch(r"[0-9a-f]{16}", code) for code in authors)
    # Oldest first: posts 1, 4, 2, 3 … — posts 1 and 3 share their author.
    assert authors[0] == authors[3]
    assert len(set(authors)) == 6
    event = AuditEvent.objects.get(action=AuditAction.POSTS_EXPORTED)
    assert event.details == {"authors": "hashed"}
    assert event.actor_id == analyst.pk


def test_author_codes_differ_between_campaigns():
    assert export.author_code(1, "x", "id-a1") == export.author_code(1, "x", "id-a1")
    assert export.author_code(1, "x", "id-a1") != export.author_code(2, "x", "id-a1")
    assert export.author_code(1, "x", "id-a1") != export.author_code(1, "bluesky", "id-a1")


def test_the_export_with_handles_is_a_choice_and_is_logged(client, scene, owner):
    client.force_login(owner)
    rows = export_rows(client, scene, authors="handles")
    assert rows[0] == export.PLAIN_COLUMNS
    handles = {row[rows[0].index("author_handle")] for row in rows[1:]}
    # A leading '@' is one a spreadsheet would act on: the apostrophe keeps it text.
    assert "'@example_a1" in handles
    exported = AuditEvent.objects.get(action=AuditAction.POSTS_EXPORTED)
    assert exported.details == {"authors": "handles"}
    assert (
        client.get(
            reverse("pulse:export", args=[scene.campaign.slug]), {"authors": "everything"}
        ).status_code
        == 400
    )


def test_exported_text_cannot_run_as_a_formula(client, scene, owner):
    ingest_records(
        scene.campaign,
        [
            PostRecord(
                platform="x",
                platform_id="5000",
                author_id="id-z",
                author_handle="=HYPERLINK(1)",
                created_at=at(3, 13, 0),
                text="=1+2 #BanTaliban",
                hashtags=["bantaliban"],
            )
        ],
        now=NOW,
    )
    client.force_login(owner)
    rows = export_rows(client, scene, authors="handles")
    last = rows[-1]
    assert last[rows[0].index("text")] == "'=1+2 #BanTaliban"
    assert last[rows[0].index("author_handle")] == "'=HYPERLINK(1)"
