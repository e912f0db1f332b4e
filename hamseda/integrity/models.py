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
