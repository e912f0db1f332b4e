"""Press releases and statements, their authors and quotes (docs/newsroom.md)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hamseda.languages import pick


class Author(models.Model):
    """Someone who speaks for an organisation in its press releases."""

    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="press_authors"
    )
    name = models.CharField(max_length=200)
    photo = models.ImageField(upload_to="newsroom/authors/", blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def text(self) -> "AuthorTranslation | None":
        return pick({t.language: t for t in self.translations.all()}, "en")


class AuthorTranslation(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=8)
    role = models.CharField(max_length=200, blank=True)
    bio = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["author", "language"], name="one_author_text")
        ]

    def __str__(self) -> str:
        return f"{self.author_id} ({self.language})"


class ReleaseKind(models.TextChoices):
    PRESS_RELEASE = "press_release", _("Press release")
    STATEMENT = "statement", _("Statement")


class PressRelease(models.Model):
    """A press release or statement of a campaign. Public once published and past its
    embargo (`embargo_until`); until then only its organisers see it."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="press_releases"
    )
    slug = models.SlugField(unique=True, max_length=80)
    kind = models.CharField(
        max_length=16, choices=ReleaseKind.choices, default=ReleaseKind.PRESS_RELEASE
    )
    author = models.ForeignKey(
        Author, on_delete=models.SET_NULL, null=True, blank=True, related_name="releases"
    )
    image = models.ImageField(upload_to="newsroom/images/", blank=True)
    embargo_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # None while a draft.
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ReleaseKind.values), name="release_kind_valid"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "published_at"], name="release_campaign"),
        ]

    def __str__(self) -> str:
        return self.slug

    def text(self) -> "PressReleaseTranslation | None":
        return pick(
            {t.language: t for t in self.translations.all()}, self.campaign.default_language
        )


class PressReleaseTranslation(models.Model):
    release = models.ForeignKey(PressRelease, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=8)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=500, blank=True)
    # Markdown, sanitised with an allow-list when shown and in feeds.
    body = models.TextField()
    image_caption = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["release", "language"], name="one_release_text")
        ]

    def __str__(self) -> str:
        return self.title


class Quote(models.Model):
    """A quote in a press release, in one language, with who said it."""

    release = models.ForeignKey(PressRelease, on_delete=models.CASCADE, related_name="quotes")
    language = models.CharField(max_length=8)
    text = models.TextField()
    speaker = models.CharField(max_length=200)
    speaker_role = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"quote by {self.speaker}"
