"""The delivery document's organiser page (petitions.views.delivery), under organize/."""

from django.urls import path

from hamseda.petitions.views import delivery

urlpatterns = [
    path("petitions/<slug:slug>/delivery", delivery.document, name="document"),
]
