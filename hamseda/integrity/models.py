from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOGOUT = "logout", _("Logged out")
    TWO_FACTOR_ADDED = "2fa_added", _("Two-factor method added")
    TWO_FACTOR_REMOVED = "2fa_removed", _("Two-factor method removed")
    KEY_ADDED = "key_added", _("Sealing key added")
    KEY_RETIRED = "key_retired", _("Sealing key retired")
    EXPORT = "export", _("Signatures exported")
    MEMBER_ADDED = "member_added", _("Member added")
    ROLE_CHANGED = "role_changed", _("Role changed")
    MEMBER_REMOVED = "member_removed", _("Member removed")
    INVALIDATION = "invalidation", _("Signatures invalidated")
    INVALIDATION_UNDONE = "invalidation_undone", _("Invalidation undone")
    MAILOUT = "mailout", _("Mail-out")
    RETENTION_PURGE = "retention_purge", _("Personal data purged (retention)")
    AUDIT_EXPORT = "audit_export", _("Audit log exported")
    KIT_DESIGN = "kit_design", _("Kit design changed")
    API_KEY_CREATED = "api_key_created", _("API key created")
    API_KEY_REVOKED = "api_key_revoked", _("API key revoked")
    WEBHOOK_ADDED = "webhook_added", _("Webhook added")
    WEBHOOK_REMOVED = "webhook_removed", _("Webhook removed")
    POST_HIDDEN = "post_hidden", _("Post hidden from the wall")
    POST_SHOWN = "post_shown", _("Post shown again on the wall")
    POSTS_EXPORTED = "posts_export", _("Hashtag posts exported")


class AuditEvent(models.Model):
    """One line of an organisation's append-only audit log (PRIVACY.md rule 7).

    Rows are only ever inserted: the model refuses updates and deletes, and database
    triggers (migration 0002) refuse them too, so neither a bug nor a careless admin
    can rewrite history through the ORM or raw SQL. Actors are kept as a user id and
    the e-mail they had at the time (no foreign key: deleting a user must neither fail
    nor rewrite the log). Details never hold supporters' personal data.
    """

    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="audit_events"
    )
    at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    # What the action was about, e.g. a petition slug or a key id.
    subject = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organization", "-at"], name="audit_org_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.subject}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditLogIsAppendOnly("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("Audit events cannot be deleted.")


class AuditLogIsAppendOnly(Exception):
    pass


class Invalidation(models.Model):
    """One bulk invalidation of a petition's signatures by a moderator (PRIVACY.md rule 9):
    what matched, why, who, how many; undone at most once. The signatures point back
    here (Signature.invalidation), so an undo restores exactly the ones it took."""

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="invalidations"
    )
    # The criteria as given: {"domain": …} | {"network_fingerprint": …} |
    # {"since": iso, "until": iso}, possibly combined.
    criteria = models.JSONField()
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField()
    actor_label = models.CharField(max_length=254, blank=True)
    # Signatures this invalidation took: in all, and how many of them had been confirmed
    # (and so left the public count).
    count = models.PositiveIntegerField(default=0)
    confirmed_count = models.PositiveIntegerField(default=0)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by_label = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"invalidation {self.pk} of {self.petition_id}: {self.count}"


# --- Integrity trends (integrity.trends, docs/integrity.md, "Integrity trends") ---


class TrendResolution(models.TextChoices):
    MINUTE = "minute", _("Minute")
    HOUR = "hour", _("Hour")


class TrendKind(models.TextChoices):
    # Signatures made (by created_at) and confirmations (by validated_at); key "".
    SIGNED = "signed", _("Signed")
    CONFIRMED = "confirmed", _("Confirmed")
    # Signatures made, split by e-mail domain, network fingerprint, country; key = value.
    DOMAIN = "domain", _("E-mail domain")
    NETWORK = "network", _("Network fingerprint")
    COUNTRY = "country", _("Country")


class TrendBucket(models.Model):
    """How many signatures of one petition fell into one minute (or hour), in total or
    for one domain, network fingerprint or country. Written only by
    integrity.trends.aggregate_trends() off the sign path, so the integrity page reads
    a few hundred rows instead of scanning signatures during a viral peak."""

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="trend_buckets"
    )
    resolution = models.CharField(max_length=8, choices=TrendResolution.choices)
    start = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=TrendKind.choices)
    key = models.CharField(max_length=253, blank=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # Also the index behind the page's "this petition, minute rows since T".
            models.UniqueConstraint(
                fields=["petition", "resolution", "start", "kind", "key"],
                name="one_trend_bucket",
            )
        ]
        # Pruning and rolling up: old rows of one resolution, across petitions.
        indexes = [models.Index(fields=["resolution", "start"], name="trend_resolution_start")]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.start:%Y-%m-%d %H:%M} {self.kind}/{self.key}"


class TrendWatermark(models.Model):
    """How far the trend aggregation has read: signatures up to `last_signature_id` (by
    primary key) and confirmations up to `confirmed_until`. One row per `name`; the
    aggregation locks it, so two workers never count the same signatures twice."""

    name = models.CharField(max_length=32, unique=True)
    last_signature_id = models.BigIntegerField(default=0)
    confirmed_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_signature_id}, {self.confirmed_until}"


class LimitCounter(models.Model):
    """One sliding-window counter of the integrity limits' database backend
    (integrity.limits), or a spent proof-of-work challenge (count 1).

    One row per rule and subject holds the count of the current fixed window (`period`,
    the window's number) and of the one before it (`previous`), so one upsert both
    counts an attempt and returns all the estimate needs. The key is a keyed hash of
    the rule and its subject (network fingerprint, e-mail domain, e-mail fingerprint,
    challenge), so this table names no domain or fingerprint and cannot be matched with
    signatures without the server secret. On PostgreSQL the table is UNLOGGED (migrations
    0006, 0008): counters are not worth a WAL flush, and a crash merely forgets them. Expired
    rows are deleted by the scheduled task integrity.tasks.prune_limit_counters, which
    scans the table: `expires_at` has no index, so that the upsert of every sign attempt
    changes no indexed column (a PostgreSQL HOT update, no index write).
    """

    # The key is the primary key: one index per row instead of an id's and the key's
    # (and on SQLite a WITHOUT ROWID table, migration 0008): every sign attempt writes
    # a few of these rows.
    key = models.CharField(max_length=64, primary_key=True)
    period = models.BigIntegerField(default=0)
    count = models.PositiveIntegerField(default=0)
    previous = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key[:8]}… = {self.count} (+{self.previous} before)"


class DisposableDomain(models.Model):
    """A local addition to (allowed=False) or exception from (allowed=True) the packaged
    list of disposable e-mail domains (integrity.disposable), kept by operators with
    `hamseda disposable-domains add|allow|update|remove` between releases."""

    domain = models.CharField(max_length=253, unique=True)
    allowed = models.BooleanField(default=False)
    note = models.CharField(max_length=200, blank=True)
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return f"{self.domain} ({'allowed' if self.allowed else 'disposable'})"
