"""Sealed exports and the in-browser decrypt page, under /organize/ (namespace "export")."""

from django.urls import path

from hamseda.vault.views import export

urlpatterns = [
    path("petitions/<slug:slug>/export", export.export_signatures, name="signatures"),
    path("decrypt", export.decrypt, name="decrypt"),
]
