"""Milestones, decision-makers' responses and the outcome (petitions.views.outcomes).
Mounted at "" inside i18n_patterns: the organiser pages start with organize/."""

from django.urls import path

from hamseda.petitions.views import outcomes

urlpatterns = [
    path("p/<slug:slug>/respond/<str:token>", outcomes.respond, name="respond"),
    path("organize/petitions/<slug:slug>/milestones", outcomes.milestones, name="milestones"),
    path(
        "organize/petitions/<slug:slug>/milestones/<int:pk>/remove",
        outcomes.remove_milestone,
        name="remove_milestone",
    ),
    path("organize/petitions/<slug:slug>/responses", outcomes.responses_page, name="responses"),
    path(
        "organize/petitions/<slug:slug>/responses/ask",
        outcomes.request_responses,
        name="request_responses",
    ),
    path(
        "organize/petitions/<slug:slug>/responses/record",
        outcomes.record_response,
        name="record_response",
    ),
    path(
        "organize/petitions/<slug:slug>/responses/<int:pk>/toggle",
        outcomes.toggle_response,
        name="toggle_response",
    ),
    path("organize/petitions/<slug:slug>/outcome", outcomes.outcome, name="outcome"),
]
