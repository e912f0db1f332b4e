"""Hashtag posts of a campaign and their pre-aggregated counts (docs/pulse.md).

Posts arrive from files (`hamseda posts import`) and from the platforms' APIs
(`hamseda posts fetch`, the scheduled task). A post is one row per campaign, platform
and platform id, however often it arrives. Every figure a dashboard shows is read from
the aggregate tables (PostHour, LanguageDay, HashtagDay, PulseTotals), which are rebuilt
for the hours an ingest touched — a page view never scans posts, except "top posts",
which reads an index.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hamseda.campaigns.models import Campaign


class Platform(models.TextChoices):
    X = "x", "X"
    BLUESKY = "bluesky", "Bluesky"
    MASTODON = "mastodon", "Mastodon"


class PostKind(models.TextChoices):
    # How a post is counted (docs/pulse.md, "What counts"): every kind is one post;
    # the dashboard shows the split.
    ORIGINAL = "original", _("Original")
    REPLY = "reply", _("Reply")
    QUOTE = "quote", _("Quote")
    REPOST = "repost", _("Repost")


class Pulse(models.Model):
    """A campaign's pulse settings: who may see the dashboard, which keywords are
    tracked besides the campaign's hashtags, and the milestones on the curve."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="pulse")
    is_public = models.BooleanField(default=True)
    # Words or phrases tracked besides the hashtags, one per line.
    keywords = models.TextField(blank=True)
    # Post counts marked on the cumulative curve, space-separated: "10000 40000".
    milestones = models.CharField(max_length=200, default="1000 10000 40000 100000")
    # The public wall shows posts; organisers may turn it off and show numbers only.
    show_wall = models.BooleanField(default=True)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"pulse of {self.campaign}"

    @property
    def milestone_list(self) -> list[int]:
        return sorted(
            {int(value) for value in self.milestones.split() if value.isascii() and value.isdigit()}
        )

    @property
    def keyword_list(self) -> list[str]:
        return [line.strip() for line in self.keywords.splitlines() if line.strip()]


class SourceState(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    # The platform refused the credentials (401/403): nothing is fetched until an
    # organiser gives a new token.
    FAILING = "failing", _("Needs attention")


class Source(models.Model):
    """One thing to fetch for a campaign: a hashtag or keyword on one platform (and,
    for Mastodon, one instance), with where the last fetch stopped."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="pulse_sources")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    # A hashtag without '#' (NFC, as typed) or a keyword; `is_hashtag` tells which.
    query = models.CharField(max_length=200)
    is_hashtag = models.BooleanField(default=True)
    # Mastodon: the instance's base URL ("https://mastodon.social"); Bluesky: the
    # AppView (default https://public.api.bsky.app); X: the API base (tests point it
    # at 127.0.0.1).
    base_url = models.URLField(blank=True)
    # X's bearer token, locked with the server key (vault.crypto.lock), never shown again.
    locked_token = models.BinaryField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=SourceState.choices, default=SourceState.ACTIVE)
    # Where to resume: X since_id, Bluesky newest indexedAt seen, Mastodon min_id;
    # plus a page cursor while a fetch is paging back (next_token, cursor, max_id).
    newest_seen = models.CharField(max_length=200, blank=True)
    page_cursor = models.CharField(max_length=500, blank=True)
    # Rate limits: no request before this time (Retry-After, x-rate-limit-reset).
    not_before = models.DateTimeField(null=True, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    posts_fetched = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "platform", "query", "base_url"], name="one_pulse_source"
            ),
            models.CheckConstraint(
                condition=Q(platform__in=Platform.values), name="pulse_source_platform_valid"
            ),
        ]

    def __str__(self) -> str:
        prefix = "#" if self.is_hashtag else ""
        return f"{self.get_platform_display()} {prefix}{self.query}"


class Post(models.Model):
    """One public post, as the platform shows it publicly.

    The author is kept by handle (what the platform shows) and by the platform's stable
    id (to count unique authors across handle changes); no display name, avatar or
    profile. A post deleted on the platform keeps only its id and time, so that it is
    not counted and not fetched again as new (docs/pulse.md).
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="posts")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    # The platform's id: X tweet id, Bluesky at:// URI, Mastodon status URI (global,
    # unlike the per-instance numeric id).
    platform_id = models.CharField(max_length=300)
    author_id = models.CharField(max_length=200)
    author_handle = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    language = models.CharField(max_length=16, blank=True)
    kind = models.CharField(max_length=8, choices=PostKind.choices, default=PostKind.ORIGINAL)
    # Lower-case hashtags of the post without '#', space-separated.
    hashtags = models.TextField(blank=True)
    url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    like_count = models.PositiveIntegerField(default=0)
    repost_count = models.PositiveIntegerField(default=0)
    reply_count = models.PositiveIntegerField(default=0)
    quote_count = models.PositiveIntegerField(default=0)
    # like + repost + reply + quote, stored for "top posts" to read an index.
    engagement = models.PositiveIntegerField(default=0)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Hidden by a moderator: counted, but not on the public wall.
    hidden = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "platform", "platform_id"], name="one_post_per_campaign"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "created_at"], name="post_campaign_time"),
            models.Index(fields=["campaign", "-engagement"], name="post_campaign_top"),
            models.Index(fields=["campaign", "platform", "author_id"], name="post_campaign_author"),
            # The few hidden posts, counted after each moderation click without reading
            # a campaign's millions of posts.
            models.Index(
                fields=["campaign", "platform"], condition=Q(hidden=True), name="post_hidden"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.platform_id}"


class PostHour(models.Model):
    """Posts of one campaign and platform in one UTC hour (deleted posts excluded)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    hour = models.DateTimeField()
    posts = models.PositiveIntegerField(default=0)
    originals = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    quotes = models.PositiveIntegerField(default=0)
    reposts = models.PositiveIntegerField(default=0)
    # Distinct authors within this hour (not additive across hours).
    authors = models.PositiveIntegerField(default=0)
    engagement = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "platform", "hour"], name="one_post_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.platform} {self.hour:%Y-%m-%d %H}h: {self.posts}"


class LanguageDay(models.Model):
    """Posts per language (as the platform tagged it; "" unknown) per UTC day."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    language = models.CharField(max_length=16, blank=True)
    posts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "day", "language"], name="one_language_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.language or '?'}: {self.posts}"


class HashtagDay(models.Model):
    """Posts carrying a hashtag per UTC day (for the co-occurring hashtags)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    tag = models.CharField(max_length=200)
    posts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "day", "tag"], name="one_hashtag_day"),
        ]
        # The dashboard's top co-occurring hashtags: the busiest tag-days first, then
        # the sums of a few tags over all days (pulse.analytics, migrations 0002_h3, 0003_h3).
        indexes = [
            models.Index(fields=["campaign", "-posts"], name="hashtag_day_busiest"),
            models.Index(fields=["campaign", "tag", "posts"], name="hashtag_day_tag_totals"),
        ]

    def __str__(self) -> str:
        return f"{self.day} #{self.tag}: {self.posts}"


class PulseTotals(models.Model):
    """Whole-campaign figures that cannot be summed from buckets (unique authors), and
    the totals, kept per platform ("" for all platforms together)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16, blank=True)
    posts = models.PositiveIntegerField(default=0)
    authors = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    hidden = models.PositiveIntegerField(default=0)
    first_post_at = models.DateTimeField(null=True, blank=True)
    last_post_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "platform"], name="one_pulse_totals"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.platform or 'all'}: {self.posts}"


class PlatformCount(models.Model):
    """X's own count of posts matching a source's query per hour (tweet counts
    endpoint): shown beside what was collected, since recent search returns a sample
    only as far back as seven days."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="counts")
    hour = models.DateTimeField()
    posts = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "hour"], name="one_platform_count"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.hour:%Y-%m-%d %H}h: {self.posts}"


class ImportState(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    # Stopped before the end (killed, interrupted): the next import of the same file
    # resumes after the last committed line.
    INTERRUPTED = "interrupted", _("Interrupted")


class ImportRun(models.Model):
    """One import of a file: how far it got, so that a killed import resumes."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    # SHA-256 of the file's size and first MiB: the same file, wherever it lies.
    file_key = models.CharField(max_length=64)
    file_name = models.CharField(max_length=300)
    file_format = models.CharField(max_length=40)
    state = models.CharField(max_length=16, choices=ImportState.choices)
    # Committed progress: the next byte and line to read.
    byte_offset = models.PositiveBigIntegerField(default=0)
    line_number = models.PositiveBigIntegerField(default=0)
    posts_read = models.PositiveBigIntegerField(default=0)
    posts_new = models.PositiveBigIntegerField(default=0)
    bad_lines = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["campaign", "file_key"], name="import_run_file")]

    def __str__(self) -> str:
        return f"import of {self.file_name} ({self.state})"
