"""The pre-aggregated counts a dashboard reads, rebuilt from the posts.

- PostHour: per platform and UTC hour — posts, originals, replies, quotes, reposts,
  distinct authors within the hour, engagement;
- LanguageDay: posts per language per UTC day;
- HashtagDay: posts carrying each hashtag per UTC day;
- PulseTotals: per platform and "" (all) — posts, distinct authors (by platform and
  author id: the same person on two platforms counts twice, as nothing links them),
  deleted, hidden, first and last post time.

Deleted posts are left out everywhere except PulseTotals.deleted; hidden posts count
everywhere (hiding only takes a post off the public wall) and are also counted in
PulseTotals.hidden.

`rebuild()` recomputes the hours and days an ingest touched: in one transaction it
deletes their rows and inserts them again with one INSERT … SELECT … GROUP BY per table,
so a reader sees either the old or the new figures. Buckets are computed in SQL (one
pass over the posts of the range, through the (campaign, created_at) index); only the
expressions for "the hour of" and "the day of", and splitting the stored hashtags,
differ between SQLite and PostgreSQL. Hashtags are counted per distinct hashtag list
in SQL and split in Python (see _HASHTAG_LISTS_SQL). `rebuild_all()` and `hamseda posts rebuild` are
the repair path for every number here.
"""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from hamseda.campaigns.models import Campaign
from hamseda.pulse.ingest import Tally, hour_of, time_adapter
from hamseda.pulse.models import HashtagDay, LanguageDay, Post, PostHour, PulseTotals

_SQLITE = {
    # Django stores SQLite times as "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC.
    "hour": "substr(p.created_at, 1, 13) || ':00:00'",
    "day": "substr(p.created_at, 1, 10)",
}
_POSTGRES = {
    "hour": "date_trunc('hour', p.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    "day": "(p.created_at AT TIME ZONE 'UTC')::date",
}
_RANGE = "p.campaign_id = %s AND p.deleted_at IS NULL AND p.created_at >= %s AND p.created_at < %s"

# Templates of constant SQL: {hour}, {day} and {tags} are the expressions above;
# every value is a query parameter.
_HOURS_SQL = (
    "INSERT INTO pulse_posthour (campaign_id, platform, hour, posts, originals, replies,"  # noqa: S608 - constant SQL
    " quotes, reposts, authors, engagement)"
    " SELECT p.campaign_id, p.platform, {hour}, COUNT(*),"
    " SUM(CASE WHEN p.kind = 'original' THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN p.kind = 'reply' THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN p.kind = 'quote' THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN p.kind = 'repost' THEN 1 ELSE 0 END),"
    " COUNT(DISTINCT p.author_id), SUM(p.engagement)"
    " FROM pulse_post p WHERE " + _RANGE + " GROUP BY p.campaign_id, p.platform, {hour}"
)
_LANGUAGES_SQL = (
    "INSERT INTO pulse_languageday (campaign_id, day, language, posts)"  # noqa: S608 - constant SQL
    " SELECT p.campaign_id, {day}, p.language, COUNT(*)"
    " FROM pulse_post p WHERE " + _RANGE + " GROUP BY p.campaign_id, {day}, p.language"
)
# Posts per day and hashtag LIST: a campaign's posts repeat a few combinations of
# hashtags (copied texts, retweets), so this is far fewer rows than posts; Python then
# splits the lists and adds up per hashtag. (Splitting in SQL — json_each on SQLite,
# unnest on PostgreSQL — made a row per hashtag of every post and was the slowest
# part of a rebuild.)
_HASHTAG_LISTS_SQL = (
    "SELECT {day}, p.hashtags, COUNT(*) FROM pulse_post p"  # noqa: S608 - constant SQL
    " WHERE " + _RANGE + " AND p.hashtags <> '' GROUP BY {day}, p.hashtags"
)


def _sql(template: str) -> str:
    return template.format(**(_POSTGRES if connection.vendor == "postgresql" else _SQLITE))


def _lock(campaign: Campaign) -> None:
    """Serialise rebuilds of one campaign on PostgreSQL: two delete-then-insert
    transactions over the same hours would otherwise collide on the unique rows.
    NO KEY UPDATE does not block the inserts of posts, which only share-lock the key.
    (SQLite's IMMEDIATE transactions serialise all writers anyway.)"""
    list(Campaign.objects.select_for_update(no_key=True).filter(pk=campaign.pk).values("pk"))


def rebuild(
    campaign: Campaign,
    first_hour: datetime,
    last_hour: datetime,
    *,
    now: datetime | None = None,
    recount_hidden: bool = True,
) -> None:
    """Recompute the buckets of the UTC hours first_hour…last_hour (inclusive) and of
    the UTC days that hold them, then the campaign's totals (see rebuild_totals for
    `recount_hidden`)."""
    now = now or timezone.now()
    start = hour_of(first_hour)
    end = hour_of(last_hour) + timedelta(hours=1)
    with transaction.atomic():
        _lock(campaign)
        _rebuild_range(campaign, start, end)
        rebuild_totals(campaign, now, recount_hidden=recount_hidden)


def _days_around(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Midnight before `start` and midnight at or after `end` (UTC)."""
    day_start = datetime.combine(start.date(), time(0), tzinfo=UTC)
    day_end = datetime.combine((end - timedelta(microseconds=1)).date(), time(0), tzinfo=UTC)
    return day_start, day_end + timedelta(days=1)


def _rebuild_range(campaign: Campaign, start: datetime, end: datetime) -> None:
    day_start, day_end = _days_around(start, end)
    PostHour.objects.filter(campaign=campaign, hour__gte=start, hour__lt=end).delete()
    _delete_days(campaign, day_start, day_end)
    _count_range(campaign, start, end)


def _delete_days(campaign: Campaign, day_start: datetime, day_end: datetime) -> None:
    """Empty the daily tables (languages, hashtags) for [day_start, day_end)."""
    days = {"day__gte": day_start.date(), "day__lt": day_end.date()}
    LanguageDay.objects.filter(campaign=campaign, **days).delete()
    HashtagDay.objects.filter(campaign=campaign, **days).delete()


def _count_range(campaign: Campaign, start: datetime, end: datetime) -> None:
    """Insert the buckets of the hours start…end and of the days holding them (their
    old rows deleted by the caller)."""
    adapt = time_adapter()
    day_start, day_end = _days_around(start, end)
    with connection.cursor() as cursor:
        cursor.execute(_sql(_HOURS_SQL), [campaign.pk, adapt(start), adapt(end)])
        days = [campaign.pk, adapt(day_start), adapt(day_end)]
        cursor.execute(_sql(_LANGUAGES_SQL), days)
        cursor.execute(_sql(_HASHTAG_LISTS_SQL), days)
        posts_per_tag: Counter[tuple[object, str]] = Counter()
        for day, hashtags, posts in cursor.fetchall():
            for tag in hashtags.split(" "):
                if tag:
                    posts_per_tag[day, tag] += posts
    HashtagDay.objects.bulk_create(
        (
            HashtagDay(campaign=campaign, day=_date(day), tag=tag[:200], posts=posts)
            for (day, tag), posts in posts_per_tag.items()
        ),
        batch_size=2000,
    )


# Hour and day 0 of a tally (ingest.Tally).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = _EPOCH.date()


def apply_tally(
    campaign: Campaign,
    tally: Tally,
    dirty_hours: set[int],
    first_hour: datetime,
    last_hour: datetime,
    *,
    now: datetime | None = None,
    recount_hidden: bool = True,
) -> None:
    """rebuild() for an import, using what its new posts were counted to be.

    1. `tally` sums the batches whose every row was a new post; `dirty_hours` are the
       hours of the other batches (updates, copies, deletions), whose effect on the
       counts is not known.
    2. The rows stored per hour (deleted ones too; read from the time index alone)
       are compared with the tally: an hour where they differ held other posts
       before, or got some from elsewhere meanwhile.
    3. A day without a dirty or differing hour holds exactly the tallied posts: its
       buckets are written from the tally. Every other day is counted in SQL, as
       rebuild() does.
    """
    now = now or timezone.now()
    start = hour_of(first_hour)
    end = hour_of(last_hour) + timedelta(hours=1)
    day_start, day_end = _days_around(start, end)
    with transaction.atomic():
        _lock(campaign)
        if not tally.complete:
            _rebuild_range(campaign, start, end)
            rebuild_totals(campaign, now, recount_hidden=recount_hidden)
            return
        adapt = time_adapter()
        with connection.cursor() as cursor:
            cursor.execute(
                _sql(_ROWS_PER_HOUR_SQL), [campaign.pk, adapt(day_start), adapt(day_end)]
            )
            stored: dict[int, int] = {}
            for hour, rows in cursor.fetchall():
                moment = _aware(hour)
                if moment is not None:
                    stored[int(moment.timestamp() // 3600)] = rows
        tallied: Counter[int] = Counter()
        for (_, hour), counts in tally.hours.items():
            tallied[hour] += counts[0]
        # Days numbered as the tally numbers them (hour // 24).
        dirty = {hour // 24 for hour in dirty_hours}
        dirty |= {
            hour // 24
            for hour in stored.keys() | tallied.keys()
            if stored.get(hour) != tallied.get(hour)
        }
        PostHour.objects.filter(campaign=campaign, hour__gte=day_start, hour__lt=day_end).delete()
        _delete_days(campaign, day_start, day_end)
        PostHour.objects.bulk_create(
            (
                PostHour(
                    campaign=campaign,
                    platform=platform,
                    hour=_EPOCH + timedelta(hours=hour),
                    posts=counts[0],
                    originals=counts[1],
                    replies=counts[2],
                    quotes=counts[3],
                    reposts=counts[4],
                    engagement=counts[5],
                    authors=len(counts[6]),
                )
                for (platform, hour), counts in tally.hours.items()
                if hour // 24 not in dirty
            ),
            batch_size=2000,
        )
        LanguageDay.objects.bulk_create(
            (
                LanguageDay(
                    campaign=campaign,
                    day=_EPOCH_DAY + timedelta(days=day),
                    language=language,
                    posts=posts,
                )
                for (day, language), posts in tally.languages.items()
                if day not in dirty
            ),
            batch_size=2000,
        )
        HashtagDay.objects.bulk_create(
            (
                HashtagDay(
                    campaign=campaign,
                    day=_EPOCH_DAY + timedelta(days=day),
                    tag=tag[:200],
                    posts=posts,
                )
                for (day, tag), posts in tally.hashtags.items()
                if day not in dirty
            ),
            batch_size=2000,
        )
        for first_day, last_day in _spans(sorted(dirty)):
            _count_range(
                campaign,
                _EPOCH + timedelta(days=first_day),
                _EPOCH + timedelta(days=last_day + 1),
            )
        rebuild_totals(campaign, now, recount_hidden=recount_hidden)


def _spans(days: list[int]) -> list[tuple[int, int]]:
    """Runs of consecutive day numbers: [(first, last), …]."""
    spans: list[tuple[int, int]] = []
    for day in days:
        if spans and day == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans


def _date(day: object) -> date:
    # SQLite answers "YYYY-MM-DD" text, PostgreSQL a date.
    return day if isinstance(day, date) else date.fromisoformat(str(day))


def rebuild_all(campaign: Campaign, *, now: datetime | None = None) -> None:
    """Recompute every bucket and total of a campaign from its posts (the repair path:
    `hamseda posts rebuild`)."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock(campaign)
        PostHour.objects.filter(campaign=campaign).delete()
        LanguageDay.objects.filter(campaign=campaign).delete()
        HashtagDay.objects.filter(campaign=campaign).delete()
        span = Post.objects.filter(campaign=campaign).aggregate(
            first=Min("created_at"), last=Max("created_at")
        )
        if span["first"] is not None:
            _rebuild_range(
                campaign, hour_of(span["first"]), hour_of(span["last"]) + timedelta(hours=1)
            )
        rebuild_totals(campaign, now)


# Rows per hour, deleted ones too, from the (campaign, created_at) index alone.
_ROWS_PER_HOUR_SQL = (
    "SELECT {hour}, COUNT(*) FROM pulse_post p"
    " WHERE p.campaign_id = %s AND p.created_at >= %s AND p.created_at < %s GROUP BY {hour}"
)
# Per platform from the covering index (campaign, platform, author_id), without
# reading the posts: all rows, deleted ones (a deleted post keeps no author id, and a
# live one always has one — pulse.ingest), and distinct author ids ('' among them
# when there are deleted posts).
_AUTHORS_SQL = (
    "SELECT platform, COUNT(*), SUM(CASE WHEN author_id = '' THEN 1 ELSE 0 END),"
    " COUNT(DISTINCT author_id) FROM pulse_post WHERE campaign_id = %s GROUP BY platform"
)
_HIDDEN_SQL = (
    "SELECT platform, COUNT(*) FROM pulse_post"
    " WHERE campaign_id = %s AND hidden AND deleted_at IS NULL GROUP BY platform"
)
_EDGE_SQL = (
    "SELECT {edge}(created_at) FROM pulse_post WHERE campaign_id = %s AND platform = %s"
    " AND deleted_at IS NULL AND created_at >= %s AND created_at < %s"
)


def rebuild_totals(
    campaign: Campaign, now: datetime | None = None, *, recount_hidden: bool = True
) -> None:
    """Recompute the campaign's PulseTotals rows: one per platform with posts, and ""
    for all platforms together (always present, zeros for a campaign without posts).

    Reads indexes and the PostHour rows, not the posts (so PostHour must be up to
    date; rebuild() and rebuild_all() make it so first): counts and authors from the
    author index, the first and last post's time within the first and last hour of
    PostHour. Counting hidden posts does read the posts; `recount_hidden=False` keeps
    the stored figures (none stored: 0), for a caller that knows that no post was
    hidden, shown or deleted since they were counted.
    """
    now = now or timezone.now()
    adapt = time_adapter()
    with connection.cursor() as cursor:
        cursor.execute(_AUTHORS_SQL, [campaign.pk])
        counted = {
            platform: (everything - deleted, deleted, distinct - (1 if deleted else 0))
            for platform, everything, deleted, distinct in cursor.fetchall()
        }
        hidden: dict[str, int] = {}
        previous = {
            row.platform: row.hidden for row in PulseTotals.objects.filter(campaign=campaign)
        }
        if recount_hidden:
            cursor.execute(_HIDDEN_SQL, [campaign.pk])
            hidden = dict(cursor.fetchall())
        else:
            # A campaign with hidden posts has totals: hiding calls
            # refresh_hidden_total(), which makes them.
            hidden = {platform: previous.get(platform, 0) for platform in counted}
        spans = {
            row["platform"]: (row["first"], row["last"])
            for row in PostHour.objects.filter(campaign=campaign)
            .values("platform")
            .annotate(first=Min("hour"), last=Max("hour"))
            .order_by()
        }
        edges: dict[str, tuple[datetime | None, datetime | None]] = {}
        for platform, (first_hour, last_hour) in spans.items():
            found = []
            for edge, hour in (("MIN", first_hour), ("MAX", last_hour)):
                cursor.execute(
                    _EDGE_SQL.format(edge=edge),
                    [campaign.pk, platform, adapt(hour), adapt(hour + timedelta(hours=1))],
                )
                found.append(_aware(cursor.fetchone()[0]))
            edges[platform] = (found[0], found[1])
    totals = [
        PulseTotals(
            campaign=campaign,
            platform=platform,
            posts=posts,
            authors=authors,
            deleted=deleted,
            hidden=hidden.get(platform, 0),
            first_post_at=edges.get(platform, (None, None))[0],
            last_post_at=edges.get(platform, (None, None))[1],
            updated_at=now,
        )
        for platform, (posts, deleted, authors) in sorted(counted.items())
    ]
    firsts = [row.first_post_at for row in totals if row.first_post_at]
    lasts = [row.last_post_at for row in totals if row.last_post_at]
    overall = PulseTotals(
        campaign=campaign,
        platform="",
        # Author ids are per platform, so distinct (platform, author) pairs are the sum
        # of each platform's distinct authors.
        posts=sum(row.posts for row in totals),
        authors=sum(row.authors for row in totals),
        deleted=sum(row.deleted for row in totals),
        hidden=sum(row.hidden for row in totals),
        first_post_at=min(firsts) if firsts else None,
        last_post_at=max(lasts) if lasts else None,
        updated_at=now,
    )
    with transaction.atomic():
        PulseTotals.objects.filter(campaign=campaign).delete()
        PulseTotals.objects.bulk_create([*totals, overall])


def _aware(moment: object) -> datetime | None:
    """A time from raw SQL: SQLite gives naive UTC text, PostgreSQL an aware datetime."""
    if moment is None:
        return None
    if isinstance(moment, datetime):
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(moment)).replace(tzinfo=UTC)


def refresh_hidden_total(campaign: Campaign, *, now: datetime | None = None) -> None:
    """After a moderator hid or showed a post: recount PulseTotals.hidden (one indexed
    count per platform; the other figures do not change, since hidden posts count)."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock(campaign)
        if not PulseTotals.objects.filter(campaign=campaign, platform="").exists():
            rebuild_totals(campaign, now)
            return
        counts = dict(
            Post.objects.filter(campaign=campaign, hidden=True, deleted_at__isnull=True)
            .values_list("platform")
            .annotate(n=Count("id"))
            .order_by()
        )
        for totals in PulseTotals.objects.filter(campaign=campaign):
            hidden = (
                sum(counts.values()) if totals.platform == "" else counts.get(totals.platform, 0)
            )
            if totals.hidden != hidden:
                totals.hidden = hidden
                totals.updated_at = now
                totals.save(update_fields=["hidden", "updated_at"])
