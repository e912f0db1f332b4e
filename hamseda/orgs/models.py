from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Organization(models.Model):
    """A campaigning organisation; owns campaigns, petitions and a sealing key pair."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    # The organisation's X25519 public key (base64). Supporters' personal data is sealed
    # to it; the matching secret key never touches the server (PRIVACY.md rule 1).
    public_key = models.CharField(max_length=64, blank=True)
    # At most this many mail-out messages a minute (mail.mailouts): the relay's and the
    # receiving providers' limits, and a brake on mistakes.
    mail_rate_per_minute = models.PositiveIntegerField(default=3000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ORGANIZER = "organizer", _("Organizer")
    MODERATOR = "moderator", _("Moderator")
    ANALYST = "analyst", _("Analyst")


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_role_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} of {self.organization}"


class SealingKey(models.Model):
    """Every public key an organisation has sealed data to, newest first.

    `Organization.public_key` is the current one (what new records are sealed to);
    retired keys stay listed so organisers know which secret key opens which records
    (each sealed record carries its `key_id`).
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="sealing_keys"
    )
    key_id = models.CharField(max_length=16, unique=True)
    public_key = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=254, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.key_id} ({self.organization})"
