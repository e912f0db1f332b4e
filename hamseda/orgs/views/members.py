"""Owners manage their organisation's members and roles. Every change is audited
(orgs.services); owners need two-factor login to be here (orgs.permissions)."""

from allauth.account.forms import ResetPasswordForm
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hamseda.orgs import services
from hamseda.orgs.forms import AddMemberForm, RoleForm
from hamseda.orgs.models import Membership, Organization, Role
from hamseda.orgs.permissions import CAN_MANAGE, check_access, has_two_factor
from hamseda.petitions.views.organize import organizer_view

ROLE_HELP = {
    Role.OWNER: gettext_lazy("Everything, including members, sealing keys and the audit log."),
    Role.ORGANIZER: gettext_lazy("Writes petitions, exports signatures and mails supporters."),
    Role.MODERATOR: gettext_lazy("Approves petitions and invalidates fake signatures."),
    Role.ANALYST: gettext_lazy("Reads numbers and charts only."),
}


def _organization(request, slug: str) -> Organization:
    organization = get_object_or_404(Organization, slug=slug)
    check_access(request.user, organization, CAN_MANAGE, two_factor=True)
    return organization


def _membership(organization: Organization, member_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user"), pk=member_id, organization=organization
    )


@organizer_view
def members(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization(request, slug)
    form = AddMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _membership_row, created = services.add_member(
                organization,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                actor=request.user,
            )
        except services.MembershipRefused:
            form.add_error("email", _("This person is already a member."))
        else:
            if created:
                _send_password_link(request, form.cleaned_data["email"])
                messages.success(
                    request, _("Member added. We mailed them a link to choose a password.")
                )
            else:
                messages.success(request, _("Member added."))
            return redirect("orgs:members", slug=slug)
    memberships = list(organization.memberships.select_related("user").order_by("user__email"))
    for membership in memberships:
        membership.two_factor = has_two_factor(membership.user)  # type: ignore[attr-defined]
    return render(
        request,
        "orgs/members.html",
        {
            "organization": organization,
            "memberships": [(m, RoleForm(initial={"role": m.role})) for m in memberships],
            "form": form,
            "roles": [(label, ROLE_HELP[Role(value)]) for value, label in Role.choices],
        },
        status=400 if request.method == "POST" else 200,
    )


def _send_password_link(request: HttpRequest, email: str) -> None:
    """A new member gets allauth's password-reset mail: a link to set their password."""
    form = ResetPasswordForm(data={"email": email})
    if form.is_valid():
        form.save(request)


@organizer_view
@require_POST
def change_role(request: HttpRequest, slug: str, member_id: int) -> HttpResponse:
    organization = _organization(request, slug)
    membership = _membership(organization, member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the roles."))
        return redirect("orgs:members", slug=slug)
    try:
        services.change_role(membership, form.cleaned_data["role"], actor=request.user)
    except services.MembershipRefused:
        messages.error(request, _("An organisation needs at least one owner."))
    else:
        messages.success(request, _("Role changed."))
    return redirect("orgs:members", slug=slug)


@organizer_view
@require_POST
def remove(request: HttpRequest, slug: str, member_id: int) -> HttpResponse:
    organization = _organization(request, slug)
    membership = _membership(organization, member_id)
    try:
        services.remove_member(membership, actor=request.user)
    except services.MembershipRefused:
        messages.error(request, _("An organisation needs at least one owner."))
    else:
        messages.success(request, _("Member removed."))
    return redirect("orgs:members", slug=slug)
