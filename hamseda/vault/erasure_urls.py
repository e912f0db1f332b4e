"""Erasure by e-mail address, for supporters (namespace "erasure")."""

from django.urls import path

from hamseda.vault.views import erasure

urlpatterns = [
    path("privacy/erase/", erasure.request_link, name="request"),
    path("privacy/erase/<str:token>", erasure.confirm, name="confirm"),
]
