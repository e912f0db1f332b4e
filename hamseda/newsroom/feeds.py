"""Atom feeds (RFC 4287) of public press releases: one per campaign
(`/c/<campaign>/press.atom`, a contract URL) and one for the whole site (`/press.atom`).

Made with Django's syndication framework and its Atom1Feed, extended by a
`<content type="html">` element with the sanitised body (petitions.markdown) and the
quotes, escaped. Every link is absolute (HAMSEDA_BASE_URL, hamseda.links), entries
are in the language of the URL prefix (`/fa/…` Dari, `/ps/…` Pashto) with the usual
fallback, and only public releases are listed: a draft or a release still under
embargo is absent, and one whose embargo passed is there at the next fetch.

Entry ids are tag URIs (RFC 4151) made of the site's host, the day the release was
created and its number, plus the feed's language: they never change when a title is
corrected or a slug is renamed, so feed readers do not show a correction as new.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, format_html, format_html_join
from django.utils.translation import gettext as _

from hamseda.campaigns.models import Campaign
from hamseda.languages import current_language
from hamseda.links import absolute_url
from hamseda.newsroom import services
from hamseda.newsroom.models import PressRelease
from hamseda.petitions.markdown import render_story

MAX_ENTRIES = 50
# Feed readers poll; a minute of caching spares the database, and a release that was
# taken down disappears from caches soon after.
MAX_AGE = 60


class AtomWithContent(Atom1Feed):
    """Atom1Feed with the entry's full text as `<content type="html">`."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("content"):
            handler.addQuickElement("content", item["content"], {"type": "html"})


def tag_uri(release: PressRelease, language: str) -> str:
    host = urlsplit(settings.BASE_URL).hostname or "localhost"
    day = release.created_at.date().isoformat()
    return f"tag:{host},{day}:hamseda/press/{release.pk}/{language}"


def entry_html(release: PressRelease) -> str:
    """The body (Markdown through the allow-list sanitiser), the picture with its
    caption, and the quotes as blockquotes: every organiser-written word escaped or
    sanitised, every URL absolute."""
    text = release.text()
    if text is None:
        return ""
    parts = []
    if release.image:
        parts.append(
            format_html(
                '<p><img src="{}" alt="{}"></p>',
                absolute_url(release.image.url),
                text.image_caption,
            )
        )
    parts.append(str(render_story(text.body)))
    quotes = [q for q in release.quotes.all() if q.language == text.language]
    parts.append(
        str(
            format_html_join(
                "",
                "<blockquote><p>{}</p><cite>{}</cite></blockquote>",
                (
                    (q.text, f"{q.speaker}, {q.speaker_role}" if q.speaker_role else q.speaker)
                    for q in quotes
                ),
            )
        )
    )
    return "".join(parts)


class ReleaseFeed(Feed):
    feed_type = AtomWithContent

    def __call__(self, request, *args, **kwargs):
        response = super().__call__(request, *args, **kwargs)
        patch_cache_control(response, public=True, max_age=MAX_AGE)
        return response

    def item_title(self, item: PressRelease) -> str:
        text = item.text()
        return text.title if text else item.slug

    def item_description(self, item: PressRelease) -> str:
        # Atom1Feed marks the summary as HTML; the summary is plain text, so escape it.
        text = item.text()
        return escape(text.summary) if text and text.summary else ""

    def item_link(self, item: PressRelease) -> str:
        return absolute_url(reverse("newsroom:release", args=[item.campaign.slug, item.slug]))

    def item_guid(self, item: PressRelease) -> str:
        return tag_uri(item, current_language())

    item_guid_is_permalink = False

    def item_pubdate(self, item: PressRelease):
        return services.released_at(item)

    def item_updateddate(self, item: PressRelease):
        released = services.released_at(item)
        return max(item.updated_at, released) if released else item.updated_at

    def item_author_name(self, item: PressRelease) -> str:
        return item.author.name if item.author else item.campaign.organization.name

    def item_categories(self, item: PressRelease):
        return [item.get_kind_display()]

    def item_extra_kwargs(self, item: PressRelease) -> dict:
        return {"content": entry_html(item)}


class CampaignFeed(ReleaseFeed):
    def get_object(self, request, slug: str) -> Campaign:
        return get_object_or_404(
            Campaign.objects.select_related("organization").prefetch_related("translations"),
            slug=slug,
            is_public=True,
        )

    def title(self, obj: Campaign) -> str:
        text = obj.text()
        return _("Press releases: %(campaign)s") % {"campaign": text.name if text else obj.slug}

    def subtitle(self, obj: Campaign) -> str:
        return _("Press releases and statements of the campaign, by %(organisation)s.") % {
            "organisation": obj.organization.name
        }

    def link(self, obj: Campaign) -> str:
        return absolute_url(reverse("newsroom:campaign_press", args=[obj.slug]))

    def feed_url(self, obj: Campaign) -> str:
        return absolute_url(reverse("newsroom:campaign_feed", args=[obj.slug]))

    def feed_guid(self, obj: Campaign) -> str:
        return self.feed_url(obj)

    def author_name(self, obj: Campaign) -> str:
        return obj.organization.name

    def items(self, obj: Campaign):
        return services.public_releases(obj)[:MAX_ENTRIES]


class SiteFeed(ReleaseFeed):
    def title(self) -> str:
        return _("Press releases on Hamseda")

    def subtitle(self) -> str:
        return _("Press releases and statements of every campaign on this site.")

    def link(self) -> str:
        return absolute_url(reverse("newsroom:site_press"))

    def feed_url(self) -> str:
        return absolute_url(reverse("newsroom:site_feed"))

    def feed_guid(self) -> str:
        return self.feed_url()

    def author_name(self) -> str:
        return _("Hamseda")

    def items(self):
        return services.public_releases()[:MAX_ENTRIES]
