"""{% embed_snippets petition as snippets %}: the widget's snippets for the petition page
(api/_embed_snippet.html)."""

from django import template

from hamseda.api import widget

register = template.Library()


@register.simple_tag
def embed_snippets(petition) -> widget.Snippets:
    return widget.snippets(petition)
