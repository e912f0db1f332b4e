"""Moderator pages for bulk invalidation: criteria → dry-run preview → confirm, the list
of a petition's past invalidations, and undo. Thin: the work is in integrity.invalidation.

Only roles that may moderate (orgs.permissions.CAN_MODERATE) get in; another
organisation's member gets a 404. The pages show counts, never personal data.
"""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from hamseda.integrity import invalidation as service
from hamseda.integrity.models import Invalidation
from hamseda.orgs.permissions import CAN_MODERATE
from hamseda.petitions.models import Petition
from hamseda.petitions.views.organize import _petition_for, _render, organizer_view

CRITERIA_FIELDS = ("domain", "network_fingerprint", "since", "until")


class InvalidateForm(forms.Form):
    """The criteria and the reason. Times are in UTC (the site's zone, settings.TIME_ZONE)."""

    domain = forms.CharField(
        label=gettext_lazy("E-mail domain"), required=False, max_length=service.MAX_DOMAIN
    )
    network_fingerprint = forms.CharField(
        label=gettext_lazy("Network fingerprint"),
        required=False,
        max_length=service.MAX_FINGERPRINT,
    )
    since = forms.DateTimeField(
        label=gettext_lazy("Signed from (UTC)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"placeholder": "2026-11-28 14:00"}),
    )
    until = forms.DateTimeField(
        label=gettext_lazy("Signed before (UTC)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"placeholder": "2026-11-28 15:00"}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason (kept in the audit log)"),
        max_length=service.MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.criteria = service.clean_criteria(**{k: cleaned.get(k) for k in CRITERIA_FIELDS})
        except service.InvalidationRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        return cleaned


def _page(request, petition: Petition, form: InvalidateForm, *, status: int = 200):
    return _render(
        request,
        "integrity/invalidate.html",
        {
            "petition": petition,
            "text": petition.text(),
            "form": form,
            "invalidations": service.invalidations_of(petition),
        },
        status=status,
    )


@organizer_view
def invalidate(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the form (prefilled from ?domain=, ?network_fingerprint=, ?since=, ?until=,
    e.g. from the trends page) and past invalidations. POST without `confirm`: the dry
    run. POST with `confirm`: the invalidation itself."""
    petition = _petition_for(request, slug, CAN_MODERATE)
    if request.method != "POST":
        initial = {name: request.GET.get(name, "")[:300] for name in CRITERIA_FIELDS}
        return _page(request, petition, InvalidateForm(initial=initial))
    form = InvalidateForm(request.POST)
    if not form.is_valid():
        return _page(request, petition, form, status=400)
    values = {
        **{name: form.cleaned_data[name] for name in CRITERIA_FIELDS},
        "reason": form.cleaned_data["reason"],
    }
    confirming = "confirm" in request.POST
    try:
        result = service.invalidate_signatures(
            petition, **values, actor=request.user, dry_run=not confirming
        )
    except service.InvalidationRefused as refused:
        form.add_error(None, str(refused))
        return _page(request, petition, form, status=400)
    if not confirming:
        if not result.count:
            form.add_error(
                None,
                _("No signature matches these criteria (or they are all invalidated already)."),
            )
            return _page(request, petition, form, status=400)
        return _render(
            request,
            "integrity/invalidate_preview.html",
            {"petition": petition, "text": petition.text(), "form": form, "result": result},
        )
    messages.success(
        request,
        ngettext(
            "%(count)d signature invalidated (%(confirmed)d of them confirmed).",
            "%(count)d signatures invalidated (%(confirmed)d of them confirmed).",
            result.count,
        )
        % {"count": result.count, "confirmed": result.confirmed},
    )
    return redirect("integrity:invalidate", slug=petition.slug)


@organizer_view
@require_POST
def undo(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_MODERATE)
    invalidation = get_object_or_404(Invalidation, pk=pk, petition=petition)
    try:
        service.undo_invalidation(
            invalidation, actor=request.user, reason=request.POST.get("reason", "")
        )
    except service.InvalidationRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Invalidation undone: its signatures are back."))
    return redirect("integrity:invalidate", slug=petition.slug)
