"""Erasure by e-mail address, for supporters: /privacy/erase/ asks for a link, the link
erases (services in hamseda/vault/erasure.py)."""

import unicodedata

from django import forms
from django.conf import settings
from django.core.validators import EmailValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from hamseda.languages import current_language
from hamseda.vault import erasure


class ErasureRequestForm(forms.Form):
    email = forms.CharField(
        label=_("Your e-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Please enter your e-mail address."),
            "max_length": _("This is too long: at most %(limit_value)d characters, please."),
        },
    )

    def clean_email(self) -> str:
        value = unicodedata.normalize("NFC", self.cleaned_data["email"].strip())
        try:
            EmailValidator()(value)
        except forms.ValidationError as error:
            raise forms.ValidationError(
                _("Please enter a valid e-mail address, like name@example.org.")
            ) from error
        return value


@never_cache
@require_http_methods(["GET", "POST"])
def request_link(request: HttpRequest) -> HttpResponse:
    """Ask for an erasure link. The answer is the same whether or not anything is held
    for the address, and whether or not a mail was sent: it must not tell who signed."""
    form = ErasureRequestForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        erasure.request_erasure(form.cleaned_data["email"], language=current_language())
        return render(
            request,
            "vault/erasure/requested.html",
            {
                "hours": settings.HAMSEDA["ERASURE_LINK_HOURS"],
                "minutes": settings.HAMSEDA["ERASURE_MAIL_MINUTES"],
            },
        )
    status = 400 if form.is_bound else 200
    return render(request, "vault/erasure/request.html", {"form": form}, status=status)


# A link that is not ours (forged, cut short) is not found; an expired one is gone.
STATUS = {erasure.LinkOutcome.INVALID: 404, erasure.LinkOutcome.EXPIRED: 410}


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the erasure mail. GET shows what would be deleted and a button (mail
    scanners follow links); the button POSTs and erases."""
    if request.method == "POST":
        result = erasure.erase_with_token(token)
        done = True
    else:
        result = erasure.check_erasure(token)
        done = False
    return render(
        request,
        "vault/erasure/confirm.html",
        {"result": result, "outcome": result.outcome.value, "done": done},
        status=STATUS.get(result.outcome, 200),
    )
