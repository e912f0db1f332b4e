"""Share links and link previews: plain URLs to each network's own share page (no
third-party scripts), each tagged with its channel and, on a signer's thank-you or
confirmation page, with that signer's anonymous sharer code (petitions.sources); and the
Open Graph / Twitter card tags that make the petition's link preview."""

import html
from urllib.parse import quote, urlencode

from django.conf import settings
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from hamseda.languages import current_language
from hamseda.links import absolute_url
from hamseda.petitions.sources import tagged_url

# og:locale per language. Dari and Pashto are named for Afghanistan: "fa_IR" would be
# Iranian Persian, which is not what the page is written in.
OG_LOCALES = {"en": "en_GB", "fa": "fa_AF", "ps": "ps_AF"}
CARD_WIDTH, CARD_HEIGHT = 1200, 630  # kit.design.SIZES["card"]
DESCRIPTION_LENGTH = 200


def share_links(petition, text, sharer_code: str = "") -> dict:
    """The share links of a petition in the active language: `url`, the address to copy
    (channel "copy"), and `links`, (network name, share URL) pairs, each address tagged
    with its channel and `sharer_code` (empty on pages not shown to a signer)."""
    # reverse() in the active language gives the /fa/… or /ps/… page for those readers.
    url = absolute_url(petition.get_absolute_url())
    title = text.title if text else petition.slug
    tags = (
        " ".join(f"#{tag}" for tag in petition.campaign.hashtag_list) if petition.campaign else ""
    )
    message = f"{title} {tags}".strip()

    def tagged(channel: str) -> str:
        return tagged_url(url, channel, sharer_code)

    whatsapp = {"text": f"{message} {tagged('whatsapp')}"}
    telegram = {"url": tagged("telegram"), "text": message}
    x = {"text": message, "url": tagged("x")}
    facebook = {"u": tagged("facebook")}
    mail_body = f"{message} {tagged('email')}"
    return {
        "url": tagged("copy"),
        "links": [
            ("WhatsApp", "https://wa.me/?" + urlencode(whatsapp)),
            ("Telegram", "https://t.me/share/url?" + urlencode(telegram)),
            ("X", "https://x.com/intent/post?" + urlencode(x)),
            ("Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode(facebook)),
            (_("E-mail"), f"mailto:?subject={quote(title)}&body={quote(mail_body)}"),
        ],
    }


def story_excerpt(story_html: str, length: int = DESCRIPTION_LENGTH) -> str:
    """The start of the rendered story as plain text (at most `length` characters, an
    ellipsis marking a cut), for a link preview."""
    plain = " ".join(html.unescape(strip_tags(str(story_html))).split())
    return Truncator(plain).chars(length)


def link_preview(petition, text, story_html: str = "") -> dict:
    """The Open Graph and Twitter card values of the petition page in the active
    language: the canonical address (without a source: a preview's own clicks count as
    direct), and the live link card of the kit in this language as its image."""
    language = current_language()
    title = text.title if text else petition.slug
    description = story_excerpt(story_html) or (text.summary if text else "")
    image = absolute_url(
        reverse("kit:petition_image", kwargs={"slug": petition.slug, "size": "card"})
    )
    petition_languages = set(petition.languages)
    return {
        "title": title,
        "description": description,
        "url": absolute_url(petition.get_absolute_url()),
        "image": image,
        "image_width": CARD_WIDTH,
        "image_height": CARD_HEIGHT,
        "image_alt": _("“%(title)s”: the petition's card, with its number of signatures")
        % {"title": title},
        "locale": OG_LOCALES.get(language, language),
        # The other languages the petition is written in (the page in a language
        # without its own text would show the petition's main language).
        "locale_alternates": [
            OG_LOCALES.get(code, code)
            for code, _name in settings.LANGUAGES
            if code != language and code in petition_languages
        ],
    }
