"""OSDI (HAL+JSON) resources under /api/osdi/v1/ (namespace `osdi`; not translated: the
language is the `lang` query parameter, as in the JSON API). See api.osdi."""

from django.urls import path

from hamseda.api.osdi import views

urlpatterns = [
    path("", views.entry_point, name="entry_point"),
    path("petitions", views.petitions, name="petitions"),
    path("petitions/<slug:slug>", views.petition, name="petition"),
    path("petitions/<slug:slug>/signatures", views.signatures, name="signatures"),
    path(
        "petitions/<slug:slug>/record_signature_helper",
        views.record_signature_helper,
        name="record_signature_helper",
    ),
    path("events", views.events, name="events"),
    path("events/<slug:slug>", views.event, name="event"),
    path("events/<slug:slug>/attendances", views.attendances, name="attendances"),
    path(
        "events/<slug:slug>/record_attendance_helper",
        views.record_attendance_helper,
        name="record_attendance_helper",
    ),
]
