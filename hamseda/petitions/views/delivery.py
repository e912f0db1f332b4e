"""The organisers' delivery page: what the delivery document holds, its numbers, and a
form that returns the PDF (petitions.delivery). `?format=csv` downloads the numbers.

The reasons typed into the form are personal data the organisers decrypted: they are
used for the one document and neither stored nor logged (sensitive_post_parameters
keeps them out of error reports).
"""

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from hamseda.languages import current_language
from hamseda.orgs.permissions import CAN_EDIT
from hamseda.petitions import delivery
from hamseda.petitions.delivery.forms import DeliveryForm
from hamseda.petitions.views.organize import _petition_for, _render, organizer_view


@sensitive_post_parameters("reasons")
@organizer_view
def document(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT)
    if request.method == "GET" and request.GET.get("format") == "csv":
        return _csv(petition)
    languages = delivery.choose_languages(petition, ())
    if request.method != "POST":
        return _page(request, petition, DeliveryForm(languages=languages))
    form = DeliveryForm(request.POST, languages=languages)
    if not form.is_valid():
        return _page(request, petition, form, status=400)
    options = delivery.DeliveryOptions(
        languages=tuple(form.cleaned_data["languages"]),
        include_names=form.cleaned_data["include_names"],
        reasons=tuple(form.cleaned_data["reasons"]),
    )
    now = timezone.now()
    try:
        pdf = delivery.delivery_pdf(petition, options, now=now)
    except delivery.DeliveryError as error:
        form.add_error(None, str(error))
        return _page(request, petition, form, status=400)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = delivery.file_name(petition, now)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def _page(request, petition, form: DeliveryForm, *, status: int = 200) -> HttpResponse:
    try:
        delivery.check_deliverable(petition)
        problem = ""
    except delivery.DeliveryError as error:
        problem = str(error)
    return _render(
        request,
        "petitions/delivery/page.html",
        {
            "petition": petition,
            "text": petition.text(),
            "form": form,
            "problem": problem,
            "targets": [str(target) for target in petition.targets.all()],
            "countries": petition.country_counts.filter(count__gt=0).count(),
            "named": delivery.public_names(petition).count(),
            "max_names": delivery.MAX_NAMES,
            "title": _("Delivery document"),
        },
        status=status,
    )


def _csv(petition) -> HttpResponse:
    response = HttpResponse(
        delivery.aggregates_csv(petition, current_language()),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="{petition.slug}-delivery-numbers-{stamp}.csv"'
    )
    response["Cache-Control"] = "no-store"
    return response
