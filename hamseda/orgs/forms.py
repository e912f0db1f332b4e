"""Forms of the organisation pages: adding a member, changing a role."""

from django import forms
from django.utils.translation import gettext_lazy as _

from hamseda.orgs.models import Role


class AddMemberForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        error_messages={"required": _("Enter the new member's e-mail address.")},
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.ANALYST)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
