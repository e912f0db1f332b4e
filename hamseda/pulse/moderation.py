"""Hiding a post from the public wall, and showing it again.

A hidden post still counts in every figure (it was posted; hiding is about what the
campaign shows, not about what happened), but it leaves the wall and the top posts.
Each change is atomic: the post's flag, the campaign's hidden total and the audit line
commit together, and the cached public pages are dropped once it has committed.
"""

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from hamseda.integrity import audit
from hamseda.integrity.models import AuditAction
from hamseda.pulse import pagecache
from hamseda.pulse.hashtags import HashtagError, normalise_hashtag
from hamseda.pulse.models import Post


def set_hidden(post: Post, hidden: bool, *, by=None, now=None) -> bool:
    """Hide (or show again) a post; True if it changed, False if it already was.

    The conditional UPDATE makes two moderators' clicks on the same post change it, and
    write its audit line, once.
    """
    from hamseda.pulse.aggregates import refresh_hidden_total

    now = now or timezone.now()
    campaign = post.campaign
    with transaction.atomic():
        changed = Post.objects.filter(pk=post.pk, hidden=not hidden).update(
            hidden=hidden, updated_at=now
        )
        if not changed:
            return False
        refresh_hidden_total(campaign, now=now)
        audit.record(
            AuditAction.POST_HIDDEN if hidden else AuditAction.POST_SHOWN,
            organization=campaign.organization,
            actor=by,
            # The post's number here, not its author or address: the log stays free
            # of anyone's name.
            subject=f"{campaign.slug} post {post.pk}",
            details={"campaign": campaign.slug, "platform": post.platform},
            now=now,
        )
        transaction.on_commit(lambda: pagecache.forget(campaign.slug))
    post.hidden = hidden
    return True


def search(campaign, *, query: str = "", show: str = "all") -> QuerySet[Post]:
    """The campaign's posts for the moderation list, newest first: "#tag" finds posts
    carrying the hashtag, anything else posts whose author's handle starts with it
    (with or without '@'). Deleted posts are left out: there is nothing left to hide."""
    posts = Post.objects.filter(campaign=campaign, deleted_at__isnull=True)
    if show == "hidden":
        posts = posts.filter(hidden=True)
    elif show == "shown":
        posts = posts.filter(hidden=False)
    query = query.strip()
    if query.startswith(("#", "\uff03")):
        try:
            tag = normalise_hashtag(query)
        except HashtagError:
            return posts.none()
        # Post.hashtags holds the post's tags separated by single spaces.
        posts = posts.filter(
            Q(hashtags=tag)
            | Q(hashtags__startswith=f"{tag} ")
            | Q(hashtags__endswith=f" {tag}")
            | Q(hashtags__contains=f" {tag} ")
        )
    elif query:
        # Platforms write handles with or without '@'; either way is found.
        bare = query.lstrip("@")
        posts = posts.filter(
            Q(author_handle__istartswith=bare) | Q(author_handle__istartswith=f"@{bare}")
        )
    return posts.order_by("-created_at", "-id")
