"""Owners manage members and roles: every change audited, never without an owner."""

import pytest
from django.core import mail
from django.urls import reverse

from hamseda.integrity.models import AuditAction, AuditEvent
from hamseda.orgs import services
from hamseda.orgs.models import Membership, Role
from tests.conftest import PASSWORD
from tests.two_factor import enable_two_factor


def members_url(org) -> str:
    return reverse("orgs:members", args=[org.organization.slug])


@pytest.fixture
def owner_client(client, owner):
    enable_two_factor(owner)
    client.force_login(owner)
    return client


def test_an_owner_sees_the_members_and_their_two_factor_state(owner_client, org, moderator):
    page = owner_client.get(members_url(org)).content.decode()
    assert "owner@example.org" in page
    assert "moderator@example.org" in page
    assert page.count("<strong>No</strong>") == 1  # the moderator has no second factor


def test_an_owner_adds_a_new_member_who_gets_a_link_to_set_a_password(owner_client, org, owner):
    mail.outbox = []
    response = owner_client.post(
        members_url(org), {"email": "new.organizer@example.org", "role": Role.ORGANIZER}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="new.organizer@example.org")
    assert membership.role == Role.ORGANIZER
    assert not membership.user.has_usable_password()
    [message] = mail.outbox
    assert message.to == ["new.organizer@example.org"]
    assert "/accounts/password/reset/key/" in message.body
    event = AuditEvent.objects.get(
        action=AuditAction.MEMBER_ADDED, subject="new.organizer@example.org"
    )
    assert (event.actor_label, event.subject, event.details) == (
        owner.email,
        "new.organizer@example.org",
        {"role": "organizer"},
    )


def test_adding_an_existing_member_twice_is_refused_kindly(owner_client, org, moderator):
    response = owner_client.post(
        members_url(org), {"email": "moderator@example.org", "role": Role.ANALYST}
    )
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert Membership.objects.get(user=moderator).role == Role.MODERATOR


@pytest.mark.parametrize(
    "data",
    [
        {"email": "not an address", "role": Role.ANALYST},
        {"email": "x@example.org", "role": "superuser"},
        {"email": "", "role": ""},
        {"email": "x" * 300 + "@example.org", "role": Role.ANALYST},
    ],
)
def test_bad_member_input_is_a_400_and_changes_nothing(owner_client, org, data):
    before = Membership.objects.count()
    assert owner_client.post(members_url(org), data).status_code == 400
    assert Membership.objects.count() == before


def test_an_owner_changes_a_role_and_it_is_audited(owner_client, org, moderator):
    membership = Membership.objects.get(user=moderator)
    url = reverse("orgs:change_role", args=[org.organization.slug, membership.pk])
    assert owner_client.post(url, {"role": Role.ANALYST}).status_code == 302
    assert Membership.objects.get(pk=membership.pk).role == Role.ANALYST
    event = AuditEvent.objects.get(action=AuditAction.ROLE_CHANGED)
    assert event.details == {"from": "moderator", "to": "analyst"}


def test_the_last_owner_cannot_step_down_or_be_removed(owner_client, org, owner):
    membership = Membership.objects.get(user=owner)
    slug = org.organization.slug
    owner_client.post(reverse("orgs:change_role", args=[slug, membership.pk]), {"role": "analyst"})
    owner_client.post(reverse("orgs:remove_member", args=[slug, membership.pk]))
    assert Membership.objects.get(pk=membership.pk).role == Role.OWNER
    assert not AuditEvent.objects.filter(
        action__in=[AuditAction.ROLE_CHANGED, AuditAction.MEMBER_REMOVED], subject=owner.email
    ).exists()


def test_with_two_owners_one_may_step_down(org, owner):
    second = services.create_organizer(
        email="second@example.org", password=PASSWORD, organization=org.organization
    )
    services.change_role(Membership.objects.get(user=owner), Role.ORGANIZER, actor=second)
    with pytest.raises(services.MembershipRefused):
        services.remove_member(Membership.objects.get(user=second), actor=second)


def test_removing_a_member_ends_their_access(owner_client, org, moderator, client):
    membership = Membership.objects.get(user=moderator)
    url = reverse("orgs:remove_member", args=[org.organization.slug, membership.pk])
    assert owner_client.post(url).status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.MEMBER_REMOVED).count() == 1


def test_a_member_of_another_organisation_cannot_be_touched(owner_client, org, outsider):
    membership = Membership.objects.get(user=outsider)
    url = reverse("orgs:remove_member", args=[org.organization.slug, membership.pk])
    assert owner_client.post(url).status_code == 404
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_role_changes_only_by_post(owner_client, org, moderator):
    membership = Membership.objects.get(user=moderator)
    url = reverse("orgs:remove_member", args=[org.organization.slug, membership.pk])
    assert owner_client.get(url).status_code == 405
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_the_command_line_records_its_changes_as_the_system(org):
    services.create_organizer(
        email="cli@example.org",
        password=PASSWORD,
        organization=org.organization,
        role=Role.ANALYST,
    )
    services.create_organizer(
        email="cli@example.org",
        password=PASSWORD,
        organization=org.organization,
        role=Role.MODERATOR,
    )
    events = AuditEvent.objects.filter(subject="cli@example.org").order_by("id")
    assert [(e.action, e.actor_label) for e in events] == [
        (AuditAction.MEMBER_ADDED, "system"),
        (AuditAction.ROLE_CHANGED, "system"),
    ]
