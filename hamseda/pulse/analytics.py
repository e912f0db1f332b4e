"""Every figure of a campaign's pulse dashboard, read from the aggregate tables.

A page view never scans posts: totals come from PulseTotals, time series and the kind
split from PostHour (one row per platform and UTC hour: about 4,300 rows for a
two-month campaign however many posts it has), languages from LanguageDay and
co-occurring hashtags from HashtagDay (per UTC day). Two lists read posts, each through
an index and a LIMIT: the top posts by engagement (`post_campaign_top`) and the public
wall's latest posts (`post_campaign_time`). See docs/pulse-dashboard.md for how each
figure is counted.

All times are UTC; hours and days are the aggregates' buckets. `Figures` reads each
table at most once per page, so the dashboard and a chart download share the code.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

from django.db.models import CharField, Func, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.campaigns.models import Campaign
from hamseda.petitions.models import DailyCount, Petition, PetitionState
from hamseda.pulse import languagenames, pulses
from hamseda.pulse.hashtags import HashtagError, normalise_hashtag
from hamseda.pulse.models import (
    HashtagDay,
    LanguageDay,
    Platform,
    PlatformCount,
    Post,
    PostHour,
    Pulse,
    PulseTotals,
)

PLATFORMS: tuple[str, ...] = tuple(Platform.values)
KINDS = ("originals", "replies", "quotes", "reposts")
HOURLY_WINDOW = 72  # hours
# The cumulative line is drawn hour by hour up to this span, day by day beyond it.
CURVE_HOURLY_DAYS = 14
TOP_LANGUAGES = 6
TOP_HASHTAGS = 10
# Tag-days read to find the candidates for the top hashtags (Figures._hashtag_rows).
HASHTAG_CANDIDATE_ROWS = 2000
TOP_POSTS = 10
WALL_POSTS = 20
OTHER = "other"
# Petitions whose signatures are public (Petition.is_public).
PUBLIC_PETITION_STATES = (PetitionState.OPEN, PetitionState.CLOSED, PetitionState.WON)


def platform_name(platform: str) -> str:
    # The platforms' own names, the same in every language.
    return dict(Platform.choices).get(platform, platform)


def kind_name(kind: str) -> str:
    return {
        "originals": _("Original posts"),
        "replies": _("Replies"),
        "quotes": _("Quotes"),
        "reposts": _("Reposts"),
    }.get(kind, kind)


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Totals:
    posts: int = 0
    authors: int = 0
    deleted: int = 0
    hidden: int = 0
    first_post_at: datetime | None = None
    last_post_at: datetime | None = None
    updated_at: datetime | None = None
    by_platform: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PLATFORMS, 0))
    authors_by_platform: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PLATFORMS, 0))


def totals(campaign: Campaign) -> Totals:
    """The whole campaign's figures (PulseTotals: one row for all platforms, "", and one
    per platform), zeros before the first post."""
    overall = None
    posts = dict.fromkeys(PLATFORMS, 0)
    authors = dict.fromkeys(PLATFORMS, 0)
    for row in PulseTotals.objects.filter(campaign=campaign):
        if row.platform == "":
            overall = row
        elif row.platform in posts:
            posts[row.platform] = row.posts
            authors[row.platform] = row.authors
    if overall is None:
        return Totals(by_platform=posts, authors_by_platform=authors)
    return Totals(
        posts=overall.posts,
        authors=overall.authors,
        deleted=overall.deleted,
        hidden=overall.hidden,
        first_post_at=overall.first_post_at,
        last_post_at=overall.last_post_at,
        updated_at=overall.updated_at,
        by_platform=posts,
        authors_by_platform=authors,
    )


@dataclass(frozen=True)
class Bucket:
    """Posts in one hour (`start` a datetime) or one day (a date), per platform."""

    start: datetime | date
    by_platform: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_platform.values())


@dataclass(frozen=True)
class CumulativePoint:
    hour: datetime
    posts: int
    cumulative: int


@dataclass(frozen=True)
class Milestone:
    count: int
    # The start of the UTC hour in which the cumulative count reached `count`; None if
    # it has not yet.
    passed_at: datetime | None


@dataclass(frozen=True)
class Share:
    """One row of a split: languages, hashtags, platforms, kinds."""

    key: str
    name: str
    posts: int
    percent: float


@dataclass(frozen=True)
class DayPair:
    day: date
    first: int
    second: int


def _shares(rows: list[tuple[str, str, int]], total: int) -> list[Share]:
    return [
        Share(key, name, posts, round(posts * 100 / total, 3) if total else 0.0)
        for key, name, posts in rows
    ]


def own_hashtags(campaign: Campaign) -> set[str]:
    """The campaign's hashtags in their stored form (normalise_hashtag)."""
    tags = set()
    for tag in campaign.hashtag_list:
        try:
            tags.add(normalise_hashtag(tag))
        except HashtagError:
            tags.add(tag.casefold())
    return tags


class _UtcBucket(Func):
    """The UTC hour ("YYYY-MM-DD HH", length 13) or day ("YYYY-MM-DD", length 10) of a
    datetime column, as text made by the database. Grouping on it in SQL spares
    converting thousands of datetimes in Python (and SQLite's TruncDate, a Python
    function called per row): SQLite keeps times as UTC text, so it is a prefix;
    PostgreSQL formats it with to_char in UTC (a plain cast to text would follow the
    server's DateStyle)."""

    output_field = CharField()

    def __init__(self, expression: str, length: int) -> None:
        super().__init__(expression)
        self.length = length

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"substr({sql}, 1, {int(self.length)})", params

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        pattern = "YYYY-MM-DD HH24" if self.length == 13 else "YYYY-MM-DD"
        return f"to_char({sql} AT TIME ZONE 'UTC', '{pattern}')", params


def _text_bucket(field: str, length: int) -> _UtcBucket:
    return _UtcBucket(field, length)


def _hour_of_text(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}:00").replace(tzinfo=UTC)


def _top_tags(rows) -> list[tuple[str, int]]:
    return sorted(((tag, posts or 0) for tag, posts in rows), key=lambda r: (-r[1], r[0]))[
        :TOP_HASHTAGS
    ]


class Figures:
    """The figures of one campaign's dashboard, each read when first asked for and
    kept for the page (the chart and its table share one query)."""

    def __init__(self, campaign: Campaign, *, pulse: Pulse | None = None, now=None):
        self.campaign = campaign
        self.pulse = pulse if pulse is not None else pulses.settings_or_default(campaign)
        self.now = now or timezone.now()

    @cached_property
    def totals(self) -> Totals:
        return totals(self.campaign)

    @cached_property
    def span(self) -> tuple[datetime, datetime] | None:
        """The first and the last hour the charts show: from the first post to the
        last, or to the current hour while posts keep coming (the last one less than
        HOURLY_WINDOW hours ago), so that a lull shows as a lull."""
        if self.totals.first_post_at is None or self.totals.last_post_at is None:
            return None
        first = floor_hour(self.totals.first_post_at)
        last = floor_hour(self.totals.last_post_at)
        now_hour = floor_hour(self.now)
        if last <= now_hour < last + timedelta(hours=HOURLY_WINDOW):
            last = now_hour
        return first, last

    def _buckets(self, length: int, **filters) -> list[tuple[str, str, int]]:
        """(hour or day as text, platform, posts) of the campaign's PostHours."""
        return list(
            PostHour.objects.filter(campaign=self.campaign, posts__gt=0, **filters)
            .annotate(bucket=_text_bucket("hour", length))
            .values_list("bucket", "platform")
            .annotate(total=Sum("posts"))
            .order_by("bucket", "platform")
        )

    def hourly(self) -> list[Bucket]:
        """Posts per hour and platform over the last HOURLY_WINDOW hours of the span
        (or the whole span if shorter), empty hours included."""
        return self._hourly

    @cached_property
    def _hourly(self) -> list[Bucket]:
        if self.span is None:
            return []
        first, last = self.span
        start = max(first, last - timedelta(hours=HOURLY_WINDOW - 1))
        counts: dict[datetime, dict[str, int]] = defaultdict(lambda: dict.fromkeys(PLATFORMS, 0))
        for text, platform, posts in self._buckets(13, hour__gte=start):
            if platform in PLATFORMS:
                counts[_hour_of_text(text)][platform] += posts
        hours = int((last - start) / timedelta(hours=1)) + 1
        return [
            Bucket(moment, dict(counts[moment]))
            for moment in (start + timedelta(hours=k) for k in range(hours))
        ]

    def daily(self) -> list[Bucket]:
        """Posts per UTC day and platform over the whole span, empty days included."""
        return [Bucket(day, dict(counts)) for day, counts in self._daily.items()]

    @cached_property
    def _daily(self) -> dict[date, dict[str, int]]:
        if self.span is None:
            return {}
        first, last = self.span
        days = {
            first.date() + timedelta(days=k): dict.fromkeys(PLATFORMS, 0)
            for k in range((last.date() - first.date()).days + 1)
        }
        for text, platform, posts in self._buckets(10):
            day = date.fromisoformat(text)
            if platform in PLATFORMS and day in days:
                days[day][platform] += posts
        return days

    @cached_property
    def _hour_totals(self) -> list[tuple[datetime, int]]:
        """(hour, posts on every platform) of each hour with posts, oldest first."""
        summed: dict[datetime, int] = {}
        for text, _platform, posts in self._buckets(13):
            hour = _hour_of_text(text)
            summed[hour] = summed.get(hour, 0) + posts
        return list(summed.items())

    def cumulative(self) -> list[CumulativePoint]:
        """The running total at the end of each hour that had posts."""
        points = []
        running = 0
        for hour, posts in self._hour_totals:
            running += posts
            points.append(CumulativePoint(hour, posts, running))
        return points

    def curve(self) -> list[tuple[datetime, int]]:
        """Vertices of the cumulative line: (moment, posts so far). Hour by hour for a
        span of up to CURVE_HOURLY_DAYS days, else day by day (a chart is only a few
        hundred units wide), with each passed milestone as a vertex of its own, so
        that the line goes through its dot."""
        if self.span is None:
            return []
        first, last = self.span
        vertices = [(first, 0)]
        if last - first <= timedelta(days=CURVE_HOURLY_DAYS):
            vertices += [(p.hour + timedelta(hours=1), p.cumulative) for p in self.cumulative()]
        else:
            running = 0
            for day, counts in self._daily.items():
                running += sum(counts.values())
                end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
                vertices.append((min(end, last + timedelta(hours=1)), running))
        vertices += [
            (m.passed_at + timedelta(minutes=30), m.count)
            for m in self.milestones()
            if m.passed_at is not None
        ]
        return sorted(vertices)

    def milestones(self) -> list[Milestone]:
        """The campaign's milestones (Pulse.milestone_list) and the hour each was
        passed: the hour in which the running total reached it."""
        return self._milestones

    @cached_property
    def _milestones(self) -> list[Milestone]:
        """Found in two steps: the day each milestone was passed from the daily totals,
        then the hour within that day from that day's hours only."""
        wanted = self.pulse.milestone_list
        crossed: dict[int, tuple[date, int]] = {}  # milestone → (day, total before it)
        running = 0
        pending = list(wanted)
        for day, counts in self._daily.items():
            before = running
            running += sum(counts.values())
            while pending and running >= pending[0]:
                crossed[pending.pop(0)] = (day, before)
        days = sorted({day for day, _before in crossed.values()})
        hours: dict[date, list[tuple[datetime, int]]] = defaultdict(list)
        if days:
            within = Q()
            for day in days:
                start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
                within |= Q(hour__gte=start, hour__lt=start + timedelta(days=1))
            rows = (
                PostHour.objects.filter(within, campaign=self.campaign, posts__gt=0)
                .annotate(bucket=_text_bucket("hour", 13))
                .values_list("bucket")
                .annotate(total=Sum("posts"))
                .order_by("bucket")
            )
            for text, posts in rows:
                hour = _hour_of_text(text)
                hours[hour.date()].append((hour, posts))
        passed: dict[int, datetime] = {}
        for count, (day, before) in crossed.items():
            running = before
            for hour, posts in hours[day]:
                running += posts
                if running >= count:
                    passed[count] = hour
                    break
        return [Milestone(count, passed.get(count)) for count in wanted]

    @cached_property
    def kinds(self) -> dict[str, int]:
        """Originals, replies, quotes and reposts, summed over the campaign's hours."""
        sums = PostHour.objects.filter(campaign=self.campaign).aggregate(
            **{kind: Sum(kind) for kind in KINDS}
        )
        return {kind: sums[kind] or 0 for kind in KINDS}

    def kind_shares(self) -> list[Share]:
        counts = self.kinds
        total = sum(counts.values())
        return _shares([(kind, kind_name(kind), counts[kind]) for kind in KINDS], total)

    def platform_shares(self) -> list[Share]:
        counts = self.totals.by_platform
        total = sum(counts.values())
        return _shares(
            [(platform, platform_name(platform), counts[platform]) for platform in PLATFORMS],
            total,
        )

    @cached_property
    def _language_counts(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = defaultdict(int)
        rows = (
            LanguageDay.objects.filter(campaign=self.campaign)
            .values_list("language")
            .annotate(posts=Sum("posts"))
            .order_by()
        )
        for language, posts in rows:
            counts[languagenames.base_code(language)] += posts or 0
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def languages(self, limit: int = TOP_LANGUAGES) -> list[Share]:
        """The `limit` most used languages (as the platforms tagged the posts, regional
        variants folded into their language: en-GB is English), then "other"."""
        ordered = self._language_counts
        total = sum(posts for _code, posts in ordered)
        top = [(code, languagenames.name(code), posts) for code, posts in ordered[:limit]]
        rest = sum(posts for _code, posts in ordered[limit:])
        if rest:
            top.append((OTHER, _("Other languages"), rest))
        return _shares(top, total)

    @cached_property
    def _hashtag_rows(self) -> list[tuple[str, int]]:
        """The TOP_HASHTAGS tags with the most posts over all days (ties by name).

        Summing every tag over every day reads all of HashtagDay (160,000 rows for two
        million posts with a long tail of tags: 20-30 ms). Usually far less is needed:

        1. Read the HASHTAG_CANDIDATE_ROWS busiest tag-days (index `campaign, -posts`);
           their tags are the candidates, and no other tag had a day busier than the
           last row read (`floor`).
        2. Sum the candidates exactly over all days (index `campaign, tag, posts`).
        3. A tag that is not a candidate has at most `days × floor` posts in all; if the
           last of the top candidates has more, nothing else can be in the top, and
           the answer is exact. Otherwise (a flat spread of tags) sum every tag.
        """
        tags = HashtagDay.objects.filter(campaign=self.campaign).exclude(
            tag__in=own_hashtags(self.campaign)
        )
        everything = tags.values_list("tag").annotate(total=Sum("posts")).order_by()
        if not self._daily:
            return _top_tags(everything)  # no span to bound a tag's days by
        busiest = list(tags.order_by("-posts").values_list("tag", "posts")[:HASHTAG_CANDIDATE_ROWS])
        if len(busiest) < HASHTAG_CANDIDATE_ROWS:
            # Every row was read: sum them here.
            summed: dict[str, int] = defaultdict(int)
            for tag, posts in busiest:
                summed[tag] += posts
            return _top_tags(summed.items())
        floor = busiest[-1][1]
        candidates = {tag for tag, _posts in busiest}
        exact = _top_tags(
            tags.filter(tag__in=candidates).values_list("tag").annotate(total=Sum("posts"))
        )
        days = max(len(self._daily), 1)
        if len(exact) == TOP_HASHTAGS and exact[-1][1] > days * floor:
            return exact
        return _top_tags(everything)

    def hashtags(self, limit: int = TOP_HASHTAGS) -> list[Share]:
        """The hashtags most often used with the campaign's own (which are left out),
        with the share of all the campaign's posts that carry each."""
        rows = self._hashtag_rows[:limit]
        return _shares([(tag, f"#{tag}", posts) for tag, posts in rows], self.totals.posts)

    @cached_property
    def _top_posts(self) -> list[Post]:
        return list(
            Post.objects.filter(campaign=self.campaign, hidden=False, deleted_at__isnull=True)
            .order_by("-engagement")
            .only(*_SHOWN_FIELDS)[:TOP_POSTS]
        )

    def top_posts(self) -> list[Post]:
        """The posts with the most likes, reposts, replies and quotes together; hidden
        and deleted posts are left out."""
        return self._top_posts

    @cached_property
    def _wall(self) -> list[Post]:
        return list(
            Post.objects.filter(campaign=self.campaign, hidden=False, deleted_at__isnull=True)
            .order_by("-created_at")
            .only(*_SHOWN_FIELDS)[:WALL_POSTS]
        )

    def wall(self) -> list[Post]:
        """The latest posts for the public wall; hidden and deleted posts are left out."""
        return self._wall

    def x_counts(self) -> list[DayPair]:
        """Per UTC day: X's own count of matching posts (its counts endpoint, summed
        over the campaign's X sources) and the X posts collected. Only days X counted."""
        return self._x_counts

    @cached_property
    def _x_counts(self) -> list[DayPair]:
        rows = (
            PlatformCount.objects.filter(
                source__campaign=self.campaign, source__platform=Platform.X
            )
            .annotate(day=_text_bucket("hour", 10))
            .values_list("day")
            .annotate(posts=Sum("posts"))
            .order_by("day")
        )
        counted = {date.fromisoformat(text): posts or 0 for text, posts in rows}
        if not counted:
            return []
        collected: dict[date, int] = defaultdict(int)
        for text, _platform, posts in self._buckets(10, platform=Platform.X):
            collected[date.fromisoformat(text)] += posts
        return [DayPair(day, counted[day], collected[day]) for day in sorted(counted)]

    def signatures(self) -> list[DayPair]:
        """Per UTC day of the span: posts (all platforms) and the confirmed signatures
        of the campaign's public petitions that day (petitions.DailyCount)."""
        return self._signatures

    @cached_property
    def _signatures(self) -> list[DayPair]:
        if not self._daily:
            return []
        days = list(self._daily)
        signed: dict[date, int] = defaultdict(int)
        petitions = Petition.objects.filter(
            campaign=self.campaign, state__in=PUBLIC_PETITION_STATES
        )
        rows = (
            DailyCount.objects.filter(petition__in=petitions, day__range=(days[0], days[-1]))
            .values_list("day")
            .annotate(count=Sum("count"))
            .order_by()
        )
        for day, count in rows:
            signed[day] += count or 0
        return [DayPair(day, sum(self._daily[day].values()), signed[day]) for day in days]

    @cached_property
    def has_petitions(self) -> bool:
        return Petition.objects.filter(
            campaign=self.campaign, state__in=PUBLIC_PETITION_STATES
        ).exists()


# What the dashboard shows of a post: never the author's id, only the handle as the
# platform shows it publicly.
_SHOWN_FIELDS = (
    "id",
    "campaign_id",
    "platform",
    "author_handle",
    "text",
    "language",
    "kind",
    "url",
    "created_at",
    "like_count",
    "repost_count",
    "reply_count",
    "quote_count",
    "engagement",
)


def public_totals(campaign: Campaign) -> dict | None:
    """The campaign's headline figures for the public API (/api/v1/campaigns/{slug}/
    pulse): None when the campaign has no pulse settings or its dashboard is not
    public. Times are aware datetimes (UTC) or None; a milestone's `passed_at` is the
    start of the hour in which it was passed, or None."""
    pulse = pulses.pulse_of(campaign)
    if not pulses.is_public(pulse, campaign):
        return None
    figures = Figures(campaign, pulse=pulse)
    shown = figures.totals
    kinds = figures.kinds
    return {
        "posts": shown.posts,
        "authors": shown.authors,
        "by_platform": dict(shown.by_platform),
        "originals": kinds["originals"],
        "replies": kinds["replies"],
        "quotes": kinds["quotes"],
        "reposts": kinds["reposts"],
        "first_post_at": shown.first_post_at,
        "last_post_at": shown.last_post_at,
        "updated_at": shown.updated_at or (pulse.updated_at if pulse else None),
        "milestones": [
            {"count": milestone.count, "passed_at": milestone.passed_at}
            for milestone in figures.milestones()
        ],
    }
