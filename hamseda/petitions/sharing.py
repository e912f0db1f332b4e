"""Share links: plain URLs to each network's own share page, no third-party scripts."""

from urllib.parse import quote, urlencode

from django.utils.translation import gettext as _

from hamseda.links import absolute_url


def share_links(petition, text) -> dict:
    # reverse() in the active language gives the /fa/… or /ps/… page for those readers.
    url = absolute_url(petition.get_absolute_url())
    title = text.title if text else petition.slug
    tags = (
        " ".join(f"#{tag}" for tag in petition.campaign.hashtag_list) if petition.campaign else ""
    )
    message = f"{title} {tags}".strip()
    return {
        "url": url,
        "links": [
            ("WhatsApp", "https://wa.me/?" + urlencode({"text": f"{message} {url}"})),
            ("Telegram", "https://t.me/share/url?" + urlencode({"url": url, "text": message})),
            ("X", "https://x.com/intent/post?" + urlencode({"text": message, "url": url})),
            ("Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})),
            (_("E-mail"), f"mailto:?subject={quote(title)}&body={quote(message + ' ' + url)}"),
        ],
    }
