"""Building the messages of a mail-out (mail hygiene, docs/mailouts.md).

Every message is multipart: a plain-text part and a sanitised HTML part, in the
signer's language (right-to-left for Dari and Pashto), with a one-click unsubscribe
(RFC 8058 `List-Unsubscribe` + `List-Unsubscribe-Post`), `Precedence: bulk`, a
`Content-Language`, and a deterministic Message-ID so that a message sent again after a
crash is recognised as the same message. No image is embedded or fetched from
anywhere: the update's picture stays on its page, which the mail links to.

The content (title and Markdown body rendered to HTML) is worked out once per
language and mail-out; only the links and the address differ per recipient.
"""

from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.crypto import salted_hmac
from django.utils.html import escape
from django.utils.translation import gettext as _

from hamseda.languages import CODES
from hamseda.links import absolute_url
from hamseda.mail.models import Mailout
from hamseda.mail.unsubscribe import unsubscribe_link, unsubscribe_token
from hamseda.petitions.markdown import render_story
from hamseda.petitions.withdrawal import supporter_links, withdraw_token

MESSAGE_ID_SALT = "hamseda.mail.mailout-message-id"
# Placeholders in a rendered message for what differs per recipient: plain letters, so
# that neither the templates' escaping nor a URL changes them.
UNSUBSCRIBE = "hamsedaunsubscribeurlplaceholder"
WITHDRAW = "hamsedawithdrawurlplaceholder"
TOKEN = "hamsedatokenplaceholder"  # noqa: S105 - a placeholder, not a secret.


def sender_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "hamseda.invalid"


def message_id_mac(mailout_id: int, recipient_id: int) -> str:
    return salted_hmac(MESSAGE_ID_SALT, f"{mailout_id}.{recipient_id}").hexdigest()[:12]


def message_id(mailout_id: int, recipient_id: int) -> str:
    """The same Message-ID every time this recipient's message is built: a message sent
    again after a crash (docs/mailouts.md) is the same message to mail clients, and a
    bounce report quoting it names the recipient row (mail.bounces) without any
    address. The MAC keeps strangers from making up ids that name our rows."""
    mac = message_id_mac(mailout_id, recipient_id)
    return f"<mailout-{mailout_id}.{recipient_id}.{mac}@{sender_domain()}>"


def from_header(organization_name: str) -> str:
    """DEFAULT_FROM_EMAIL's address with the organisation's name shown."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL
    return formataddr((organization_name, address))


def reader_language(signature_language: str, default_language: str) -> str:
    for code in (signature_language, default_language):
        if code in CODES:
            return code
    return settings.LANGUAGE_CODE


def text_direction(language: str) -> str:
    return "rtl" if language in settings.LANGUAGES_BIDI else "ltr"


@dataclass(frozen=True)
class Content:
    """What one language's readers get, the same for all of them."""

    language: str  # The reader's (page) language.
    content_language: str  # The language the text is in (the best translation).
    subject: str
    heading: str
    intro: str
    body_text: str
    body_html: str
    petition_title: str
    petition_url: str
    more_url: str


@dataclass(frozen=True)
class Parts:
    subject: str
    text: str
    html: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Skeleton:
    """A language's message with placeholders for the recipient's links."""

    subject: str
    text: str
    html: str
    headers: dict[str, str]
    # The links with TOKEN where the recipient's signed token goes.
    unsubscribe_url: str
    withdraw_url: str


class MailoutContent:
    """A mail-out's content, loaded once for a run, rendered once per language."""

    def __init__(self, mailout: Mailout):
        self.mailout = mailout
        self.petition = mailout.petition
        self.organization = mailout.organization
        self._by_language: dict[str, Content] = {}
        self._skeletons: dict[tuple[str, bool, bool], Skeleton] = {}

    @classmethod
    def load(cls, mailout_id: int) -> "MailoutContent":
        mailout = (
            Mailout.objects.select_related(
                "organization", "petition", "update", "response__decision_maker"
            )
            .prefetch_related("petition__translations", "update__translations")
            .get(pk=mailout_id)
        )
        if mailout.update is not None:
            mailout.update.petition = mailout.petition  # Update.text() reads its petition.
        return cls(mailout)

    def language_for(self, signature_language: str) -> str:
        return reader_language(signature_language, self.petition.default_language)

    def content(self, language: str) -> Content:
        if language not in self._by_language:
            self._by_language[language] = self._render_content(language)
        return self._by_language[language]

    def _render_content(self, language: str) -> Content:
        petition = self.petition
        with translation.override(language):
            petition_text = petition.text()
            petition_title = petition_text.title if petition_text else petition.slug
            petition_url = absolute_url(petition.get_absolute_url())
            update = self.mailout.update
            response = self.mailout.response
            if update is not None:
                text = update.text()
                title = text.title if text else petition_title
                body = text.body if text else ""
                content_language = text.language if text else petition.default_language
                intro = _("News from the petition “%(title)s”, which you signed.") % {
                    "title": petition_title
                }
                try:
                    more_url = absolute_url(
                        reverse("updates:detail", args=[petition.slug, update.pk])
                    )
                except NoReverseMatch:
                    more_url = petition_url
                subject = title
            else:
                assert response is not None  # noqa: S101 - the mailout_one_content constraint.
                name = str(response.decision_maker.name)
                title = _("Response from %(name)s") % {"name": name}
                subject = _("Response from %(name)s: %(title)s") % {
                    "name": name,
                    "title": petition_title,
                }
                body = response.body
                content_language = response.language
                intro = _(
                    "%(name)s responded to the petition “%(title)s”, which you signed, on %(date)s."
                ) % {
                    "name": name,
                    "title": petition_title,
                    "date": response.responded_on.isoformat(),
                }
                more_url = petition_url
        return Content(
            language=language,
            content_language=content_language,
            subject=subject,
            heading=title,
            intro=intro,
            body_text=body.strip(),
            body_html=str(render_story(body)),
            petition_title=petition_title,
            petition_url=petition_url,
            more_url=more_url,
        )

    def parts(
        self,
        language: str,
        *,
        recipient_id: int | None,
        signature_id: int | None,
        test: bool = False,
    ) -> Parts:
        """Subject, text, HTML and headers of one recipient's message (or a test copy,
        which has no recipient row and no unsubscribe link).

        The templates are rendered once per language with placeholders where the
        recipient's own links go (mail-outs are sent by the thousand); here only the
        links are signed and put in.
        """
        skeleton = self.skeleton(language, personal=signature_id is not None, test=test)
        text, html = skeleton.text, skeleton.html
        headers = dict(skeleton.headers)
        if signature_id is not None:
            links = {
                UNSUBSCRIBE: skeleton.unsubscribe_url.replace(
                    TOKEN, unsubscribe_token(self.petition.pk, signature_id)
                ),
                WITHDRAW: skeleton.withdraw_url.replace(
                    TOKEN, withdraw_token(self.petition.pk, signature_id)
                ),
            }
            for placeholder, url in links.items():
                text = text.replace(placeholder, url)
                html = html.replace(placeholder, escape(url))
            headers["List-Unsubscribe"] = f"<{links[UNSUBSCRIBE]}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        if recipient_id is not None:
            headers["Message-ID"] = message_id(self.mailout.pk, recipient_id)
        return Parts(subject=skeleton.subject, text=text, html=html, headers=headers)

    def skeleton(self, language: str, *, personal: bool, test: bool) -> "Skeleton":
        key = (language, personal, test)
        if key not in self._skeletons:
            self._skeletons[key] = self._render_skeleton(language, personal=personal, test=test)
        return self._skeletons[key]

    def _render_skeleton(self, language: str, *, personal: bool, test: bool) -> "Skeleton":
        content = self.content(language)
        unsubscribe_url = withdraw_url = ""
        # Links of a made-up signature, whose token is then swapped for the real one.
        links = supporter_links(self.petition, 0, language)
        if not personal:
            del links["withdraw_url"]
        else:
            withdraw_url = links["withdraw_url"].replace(withdraw_token(self.petition.pk, 0), TOKEN)
            unsubscribe_url = unsubscribe_link(self.petition.pk, 0, language).replace(
                unsubscribe_token(self.petition.pk, 0), TOKEN
            )
            links["withdraw_url"] = WITHDRAW
        context = {
            "content": content,
            "organization": self.organization.name,
            "lang": language,
            "dir": text_direction(language),
            "content_dir": text_direction(content.content_language),
            "unsubscribe_url": UNSUBSCRIBE if personal else "",
            "test": test,
            **links,
        }
        with translation.override(language):
            subject = content.subject
            if test:
                subject = _("[Test] %(subject)s") % {"subject": subject}
            text = render_to_string("mail/mailout/message.txt", context)
            html = render_to_string("mail/mailout/message.html", context)
        headers = {
            "From": from_header(self.organization.name),
            "Content-Language": language,
            "Precedence": "bulk",
            "List-Id": f"<{self.petition.slug}.mailouts.{sender_domain()}>",
        }
        return Skeleton(
            subject=subject.replace("\n", " "),
            text=text,
            html=html,
            headers=headers,
            unsubscribe_url=unsubscribe_url,
            withdraw_url=withdraw_url,
        )

    def message(
        self, address: str, language: str, *, recipient_id: int, signature_id: int
    ) -> EmailMultiAlternatives:
        """One recipient's message. `address` is only ever held here, in memory."""
        parts = self.parts(language, recipient_id=recipient_id, signature_id=signature_id)
        email = EmailMultiAlternatives(
            subject=parts.subject,
            body=parts.text,
            from_email=parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL,
            to=[address],
            headers=parts.headers,
        )
        email.attach_alternative(parts.html, "text/html")
        return email

    def test_copy(self, language: str) -> Parts:
        return self.parts(language, recipient_id=None, signature_id=None, test=True)
