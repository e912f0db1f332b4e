"""The profile-picture frame: a supporter uploads a photo and gets it back in the
campaign's frame, as a PNG to download.

The photo is someone's face, possibly an activist's: it is processed in memory and
never stored or logged. Django would spool an upload above FILE_UPLOAD_MAX_MEMORY_SIZE
to a temporary file on disk, so this view replaces the upload handlers with one that
keeps the upload in memory whatever its size, and stops reading past the limit. The
handlers can only be replaced before anything reads the request body, and CSRF
protection reads it (for the form's token), so the view is CSRF-exempt on the outside
and checks the token itself once the body is parsed (Django's documented pattern).
"""

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.files.uploadhandler import MemoryFileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_safe

from hamseda.campaigns.models import Campaign
from hamseda.kit.content import design_for, design_key
from hamseda.kit.forms import FrameForm
from hamseda.kit.frame import (
    MAX_UPLOAD_BYTES,
    FrameError,
    frame_overlay_png,
    frame_photo,
    upright_size,
)
from hamseda.kit.imagecache import cached_file, file_response
from hamseda.kit.views.public import public_campaign
from hamseda.languages import current_language

# The overlay shown on the frame page, and the size of the framed picture.
FRAME_SIZE = 1080
# Room for the multipart envelope and the small fields around the photo.
ENVELOPE_BYTES = 64 * 1024


def _limit() -> int:

    return MAX_UPLOAD_BYTES


def _too_large_message() -> str:
    megabytes = _limit() // (1024 * 1024)
    return _("The photo is too large: at most %(megabytes)s MB, please.") % {"megabytes": megabytes}


class InMemoryUploadHandler(MemoryFileUploadHandler):
    """Keeps every uploaded file in memory (never a temporary file), up to `limit`
    bytes in all; past that it stops reading and sets `too_large`."""

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.too_large = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # MemoryFileUploadHandler would step aside above FILE_UPLOAD_MAX_MEMORY_SIZE,
        # leaving the file to the temporary-file handler. There is none here.
        self.activated = True

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large = True
            raise StopUpload(connection_reset=True)
        return super().receive_data_chunk(raw_data, start)


def _hashtag(campaign: Campaign) -> str:
    tags = campaign.hashtag_list
    return f"#{tags[0]}" if tags else ""


def _page(request, campaign: Campaign, form: FrameForm, *, status=200, error: str = ""):
    return render(
        request,
        "kit/frame.html",
        {
            "campaign": campaign,
            "text": campaign.text(),
            "form": form,
            "error": error,
            "frame_size": FRAME_SIZE,
            "max_megabytes": _limit() // (1024 * 1024),
        },
        status=status,
    )


@csrf_exempt
@sensitive_post_parameters()
@require_http_methods(["GET", "HEAD", "POST"])
def frame(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = public_campaign(slug)
    if request.method != "POST":
        # The template's {% csrf_token %} still sets the cookie: the middleware's
        # process_request and process_response run for an exempt view too.
        return _page(request, campaign, FrameForm())
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > _limit() + ENVELOPE_BYTES:
        # Refused before reading a byte of it.
        return _page(request, campaign, FrameForm(), status=413, error=_too_large_message())
    handler = InMemoryUploadHandler(request, limit=_limit())
    request.upload_handlers = [handler]
    try:
        request.FILES  # noqa: B018 - parses the body now, with the handler above.
    except (MultiPartParserError, RequestDataTooBig, SuspiciousOperation, OSError):
        return _page(
            request,
            campaign,
            FrameForm(),
            status=400,
            error=_("The upload did not arrive complete. Please try again."),
        )
    if handler.too_large:
        return _page(request, campaign, FrameForm(), status=413, error=_too_large_message())
    return _make(request, campaign)


@csrf_protect
@sensitive_variables("photo", "framed")
def _make(request: HttpRequest, campaign: Campaign) -> HttpResponse:

    form = FrameForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, campaign, form, status=400)
    photo = form.cleaned_data["photo"].read()
    try:
        framed = frame_photo(
            photo,
            design_for(campaign),
            _hashtag(campaign),
            current_language(),
            crop=form.crop(lambda: upright_size(photo)),
            size=FRAME_SIZE,
        )
    except FrameError as error:
        return _page(request, campaign, form, status=400, error=str(error))
    response = HttpResponse(framed, content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="{campaign.slug}-profile.png"'
    response["Content-Length"] = str(len(framed))
    # The picture is of a person: no cache anywhere may keep it.
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def frame_overlay(request: HttpRequest, slug: str) -> HttpResponse:
    """The frame alone (transparent in the middle), in the URL's language: the frame
    page shows it, and kit-frame.js lays it over the photo while cropping."""

    campaign = public_campaign(slug)
    language = current_language()
    hashtag = _hashtag(campaign)
    file = cached_file(
        "frame",
        str(FRAME_SIZE),
        f"{language}\x1f{hashtag}",
        design_key(campaign),
        lambda: frame_overlay_png(design_for(campaign), hashtag, language, FRAME_SIZE),
    )
    return file_response(request, file, filename=f"{campaign.slug}-frame-{language}.png")
