"""The unsubscribe link of every mail-out (mail.unsubscribe, RFC 8058)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from hamseda.mail.unsubscribe import UnsubscribeOutcome, check_unsubscribe, unsubscribe

# A link that is not ours (forged, cut short) is not found; a genuine one whose
# signature was withdrawn is gone.
STATUS = {UnsubscribeOutcome.INVALID: 404, UnsubscribeOutcome.GONE: 410}


# csrf_exempt: RFC 8058 one-click unsubscribe is a POST by the signer's mail provider,
# without our CSRF cookie, and it must work. The token in the URL is the authority
# instead: only the signer's own mail holds it, so a forged cross-site POST cannot name
# anyone, and the most a replayed one does is stop mail the signer already chose to stop.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET says what the button will do (link scanners and previews fetch links, so a
    GET never acts); the button, or the provider's one-click POST, unsubscribes."""
    if request.method == "POST":
        outcome, petition = unsubscribe(token)
    else:
        outcome, petition = check_unsubscribe(token)
    return render(
        request,
        "mail/unsubscribe.html",
        {
            "outcome": outcome.value,
            "petition": petition,
            "text": petition.text() if petition is not None else None,
        },
        status=STATUS.get(outcome, 200),
    )
