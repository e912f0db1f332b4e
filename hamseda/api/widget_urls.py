"""The embeddable sign form (namespace `widget`, inside i18n_patterns, so /fa/embed/…
speaks Dari). /widget.js, which needs no language, is in hamseda/urls.py."""

from django.urls import path

from hamseda.api import widget

urlpatterns = [
    path("embed/p/<slug:slug>/", widget.embed, name="embed"),
    path("embed/p/<slug:slug>/sign", widget.sign, name="sign"),
    path("embed/theme.css", widget.theme, name="theme"),
]
