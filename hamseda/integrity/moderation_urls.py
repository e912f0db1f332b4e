"""Moderators' integrity pages of a petition, under /organize/petitions/<slug>/."""

from django.urls import path

from hamseda.integrity import invalidation_views, views

app_name = "integrity"

urlpatterns = [
    path("petitions/<slug:slug>/integrity", views.integrity_page, name="page"),
    path("petitions/<slug:slug>/invalidate", invalidation_views.invalidate, name="invalidate"),
    path("petitions/<slug:slug>/invalidations/<int:pk>/undo", invalidation_views.undo, name="undo"),
]
