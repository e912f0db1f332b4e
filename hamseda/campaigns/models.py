from django.core.validators import RegexValidator
from django.db import models

from hamseda.languages import pick
from hamseda.orgs.models import Organization

colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #1f6f5c.")
# The same validator, for fields declared after the field named `colour` in a class body.
hex_colour = colour


class Campaign(models.Model):
    """A coordinated effort: its petitions, hashtag, kit, events and press live under it."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="campaigns"
    )
    slug = models.SlugField(unique=True)
    # Hashtags without '#', space-separated, e.g. "BanTaliban".
    hashtags = models.CharField(max_length=300, blank=True)
    default_language = models.CharField(max_length=8, default="en")
    colour = models.CharField(max_length=7, default="#1f6f5c", validators=[colour])
    # The kit's design (kit.design.Design): a second colour, a logo (may be transparent),
    # a background photo, one of kit.design.LAYOUTS, and digits for Dari/Pashto images.
    accent_colour = models.CharField(max_length=7, default="#f2c14e", validators=[hex_colour])
    logo = models.ImageField(upload_to="campaigns/logos/", blank=True)
    background = models.ImageField(upload_to="campaigns/backgrounds/", blank=True)
    kit_layout = models.CharField(max_length=20, default="bold")
    eastern_digits = models.BooleanField(default=False)
    is_public = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.slug

    @property
    def hashtag_list(self) -> list[str]:
        return [tag.lstrip("#") for tag in self.hashtags.split() if tag.strip("#")]

    def text(self) -> "CampaignTranslation | None":
        return pick({t.language: t for t in self.translations.all()}, self.default_language)


class CampaignTranslation(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=8)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "language"], name="one_campaign_text")
        ]

    def __str__(self) -> str:
        return self.name


class CampaignPartner(models.Model):
    """A coalition partner on a campaign: another organisation of this install, shown
    with its logo, description and link, that may co-host petitions and host events."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="partners")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="partnerships"
    )
    logo = models.ImageField(upload_to="campaigns/partners/", blank=True)
    url = models.URLField(blank=True)
    # Plain text, in the campaign's default language; translations per language below.
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "organization"], name="one_partnership")
        ]

    def __str__(self) -> str:
        return f"{self.organization} on {self.campaign}"
