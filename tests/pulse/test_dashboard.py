"""The public dashboard and its chart downloads: who sees them, in which language, what
they hold."""

import json

import pytest
from django.urls import reverse
from django.utils import translation

from hamseda.orgs.models import Role
from hamseda.pulse import downloads, moderation, pulses
from hamseda.pulse.models import Pulse
from tests.conftest import _user, make_org, make_petition
from tests.pulse.dashboard_data import NOW, make_scene, svgs_of

pytestmark = pytest.mark.django_db
LANGUAGES = ["en", "fa", "ps"]
SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def scene(org, monkeypatch):
    made = make_scene(org.organization)
    # The pages compute spans against "now": pin it to the scene's.
    monkeypatch.setattr("hamseda.pulse.analytics.timezone.now", lambda: NOW)
    return made


def url(scene, language="en", chart=None, fmt=None) -> str:
    # reverse() in English: a request to /fa/… leaves Dari active in this thread.
    with translation.override("en"):
        if chart is None:
            path = reverse("pulse:dashboard", args=[scene.campaign.slug])
        else:
            path = reverse("pulse:chart_data", args=[scene.campaign.slug, chart, fmt])
    return path if language == "en" else f"/{language}{path}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_public_dashboard_shows_the_figures_and_charts(client, scene, language):
    response = client.get(url(scene, language))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'lang="{language}"' in html
    svgs = svgs_of(html)
    # hourly, daily, cumulative, platforms, kinds, languages, hashtags, X counts,
    # signatures: every chart a parsed SVG image with a title and a description.
    assert len(svgs) == 9
    for svg in svgs:
        assert svg.get("role") == "img"
        title_id, desc_id = svg.get("aria-labelledby").split()
        assert svg.find(f"{SVG_NS}title").get("id") == title_id
        assert svg.find(f"{SVG_NS}desc").get("id") == desc_id
        assert svg.find(f"{SVG_NS}desc").text
    for chart in downloads.CHARTS:
        assert reverse("pulse:chart_data", args=[scene.campaign.slug, chart, "csv"]) in html
    # Each chart's numbers are also in a table.
    assert html.count("<details>") == 9


def test_the_wall_leaves_out_hidden_posts_which_still_count(client, scene):
    html = client.get(url(scene)).content.decode()
    assert "Post 4 <bdi>#BanTaliban</bdi>" in html
    assert "Post 9 " not in html  # hidden
    assert "@example_a3" not in html
    assert "1 post is hidden from this page by the organisers but still counted." in html
    assert "<dd>8</dd>" in html  # posts, the hidden one included


def test_hiding_a_post_takes_it_off_the_cached_page_at_once(
    client, scene, django_capture_on_commit_callbacks
):
    assert "Post 4 <bdi>#BanTaliban</bdi>" in client.get(url(scene)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        moderation.set_hidden(scene.posts[4], True, now=NOW)
    assert "Post 4 <bdi>#BanTaliban</bdi>" not in client.get(url(scene)).content.decode()


def test_anonymous_readers_get_a_cached_page(client, scene, django_assert_max_num_queries):
    client.get(url(scene))
    with django_assert_max_num_queries(3):  # the campaign, its texts and the settings
        response = client.get(url(scene))
    assert response.status_code == 200
    assert "max-age=30" in response["Cache-Control"]


def test_a_dashboard_without_the_wall_shows_numbers_only(client, org, monkeypatch):
    scene = make_scene(org.organization, show_wall=False)
    html = client.get(url(scene)).content.decode()
    assert "Post 4 <bdi>#BanTaliban</bdi>" not in html
    assert "@example_" not in html
    assert len(svgs_of(html)) == 9


@pytest.mark.parametrize("persona", ["anonymous", "stranger", "outsider"])
def test_an_organiser_only_dashboard_is_a_404_for_everyone_else(client, org, persona):
    from django.contrib.auth import get_user_model

    scene = make_scene(org.organization, is_public=False)
    if persona == "stranger":
        client.force_login(get_user_model().objects.create_user("stranger@example.org"))
    elif persona == "outsider":
        client.force_login(_user(make_org("other-org").organization, "o@example.org", Role.OWNER))
    assert client.get(url(scene)).status_code == 404
    for chart in downloads.CHARTS:
        assert client.get(url(scene, chart=chart, fmt="json")).status_code == 404


@pytest.mark.parametrize("role", [Role.OWNER, Role.ORGANIZER, Role.MODERATOR, Role.ANALYST])
def test_members_see_an_organiser_only_dashboard(client, org, role):
    scene = make_scene(org.organization, is_public=False)
    client.force_login(_user(org.organization, "member@example.org", role))
    response = client.get(url(scene))
    assert response.status_code == 200
    assert "Only members of the organisation see this dashboard." in response.content.decode()
    assert "private" in response["Cache-Control"]
    assert client.get(url(scene, chart="daily", fmt="csv")).status_code == 200


def test_a_private_campaign_hides_even_a_public_pulse(client, scene):
    scene.campaign.is_public = False
    scene.campaign.save()
    assert client.get(url(scene)).status_code == 404


def test_a_campaign_without_pulse_settings_has_no_public_dashboard(client, org, owner):
    campaign = make_petition(org.organization).campaign
    assert client.get(reverse("pulse:dashboard", args=[campaign.slug])).status_code == 404
    client.force_login(owner)
    response = client.get(reverse("pulse:dashboard", args=[campaign.slug]))
    assert response.status_code == 200
    assert "No posts collected yet." in response.content.decode()


def test_unknown_campaigns_charts_and_formats_are_404(client, scene):
    slug = scene.campaign.slug
    assert client.get(reverse("pulse:dashboard", args=["nope"])).status_code == 404
    for chart, fmt in [("nope", "csv"), ("daily", "xml"), ("daily", "csv.json"), ("DAILY", "csv")]:
        assert client.get(f"/c/{slug}/pulse/{chart}.{fmt}").status_code == 404
    assert client.post(url(scene)).status_code == 405


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("chart", downloads.CHARTS)
def test_every_chart_downloads_as_csv_and_json(client, scene, language, chart):
    csv_response = client.get(url(scene, language, chart, "csv"))
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in csv_response["Content-Disposition"]
    text = csv_response.content.decode()
    assert text.startswith("\ufeff")
    json_response = client.get(url(scene, language, chart, "json"))
    assert json_response.status_code == 200
    data = json.loads(json_response.content)
    assert data["chart"] == chart
    assert data["campaign"] == scene.campaign.slug
    assert text.splitlines()[0].lstrip("\ufeff").split(",") == data["columns"]
    assert len(text.splitlines()) == len(data["rows"]) + 1


def test_the_downloads_hold_the_known_figures(client, scene):
    daily = json.loads(client.get(url(scene, chart="daily", fmt="json")).content)
    assert daily["rows"] == [
        {"day": "2025-03-01", "x": 3, "bluesky": 1, "mastodon": 0, "total": 4},
        {"day": "2025-03-02", "x": 1, "bluesky": 1, "mastodon": 1, "total": 3},
        {"day": "2025-03-03", "x": 0, "bluesky": 0, "mastodon": 1, "total": 1},
    ]
    assert daily["updated_at"] == "2025-03-03T12:30:00Z"
    milestones = client.get(url(scene, chart="milestones", fmt="csv")).content.decode()
    assert milestones.splitlines() == [
        "\ufeffcount,passed_at",
        "2,2025-03-01T10:00:00Z",
        "5,2025-03-02T09:00:00Z",
        "8,2025-03-03T12:00:00Z",
        "100,",
    ]
    fa_languages = json.loads(client.get(url(scene, "fa", "languages", "json")).content)
    assert [row["language"] for row in fa_languages["rows"]] == ["en", "fa", "", "de", "ps"]
    signatures = json.loads(client.get(url(scene, chart="signatures", fmt="json")).content)
    assert [row["signatures"] for row in signatures["rows"]] == [2, 0, 1]


def test_csv_cells_cannot_run_as_formulas():
    table = downloads.Table(["name", "posts"], [["=HYPERLINK(1)", 1], ["+1", 2], ["ok", 3]])
    lines = downloads.as_csv(table).decode().splitlines()
    assert lines[1] == "'=HYPERLINK(1),1"
    assert lines[2] == "'+1,2"
    assert lines[3] == "ok,3"


def test_dari_pages_use_eastern_digits_when_the_campaign_does(client, scene):
    scene.campaign.eastern_digits = True
    scene.campaign.save()
    html = client.get(url(scene, "fa")).content.decode()
    assert "<dd>۸</dd>" in html
    english = client.get(url(scene)).content.decode()
    assert "<dd>8</dd>" in english
    # Downloads keep ASCII digits in every language.
    assert "۸" not in client.get(url(scene, "fa", "daily", "csv")).content.decode()


def test_the_campaign_page_links_to_a_visible_dashboard_only(client, org, owner):
    scene = make_scene(org.organization)
    dashboard = reverse("pulse:dashboard", args=[scene.campaign.slug])
    page = reverse("campaign", args=[scene.campaign.slug])
    assert dashboard in client.get(page).content.decode()
    Pulse.objects.filter(campaign=scene.campaign).update(is_public=False)
    assert dashboard not in client.get(page).content.decode()
    client.force_login(owner)
    assert dashboard in client.get(page).content.decode()


def test_saving_the_settings_drops_the_cached_page(
    client, scene, django_capture_on_commit_callbacks
):
    assert client.get(url(scene)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        pulses.save_settings(
            scene.campaign, is_public=False, show_wall=True, keywords="", milestones="10"
        )
    assert client.get(url(scene)).status_code == 404


def test_members_get_links_to_what_their_role_allows(client, scene, moderator, analyst):
    settings_url = reverse("pulse:organize", args=[scene.campaign.slug])
    posts_url = reverse("pulse:posts", args=[scene.campaign.slug])
    assert posts_url not in client.get(url(scene)).content.decode()
    client.force_login(moderator)
    html = client.get(url(scene)).content.decode()
    assert posts_url in html
    assert f'href="{settings_url}"' not in html
    client.force_login(analyst)
    html = client.get(url(scene)).content.decode()
    assert posts_url not in html
    assert reverse("pulse:export", args=[scene.campaign.slug]) in html
