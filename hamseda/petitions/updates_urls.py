"""Updates on a petition (namespace "updates", mounted at the site root): the public
pages under /p/<slug>/updates/ and the organisers' pages under /organize/."""

from django.urls import path

from hamseda.petitions.views import updates

urlpatterns: list = [
    path("p/<slug:slug>/updates/", updates.public_list, name="list"),
    path("p/<slug:slug>/updates/<int:pk>/", updates.public_detail, name="detail"),
    path("organize/petitions/<slug:slug>/updates/", updates.organize_list, name="organize_list"),
    path("organize/petitions/<slug:slug>/updates/new", updates.organize_new, name="new"),
    path(
        "organize/petitions/<slug:slug>/updates/<int:pk>/edit", updates.organize_edit, name="edit"
    ),
    path(
        "organize/petitions/<slug:slug>/updates/<int:pk>/publish", updates.publish, name="publish"
    ),
    path(
        "organize/petitions/<slug:slug>/updates/<int:pk>/unpublish",
        updates.unpublish,
        name="unpublish",
    ),
    path("organize/petitions/<slug:slug>/updates/<int:pk>/delete", updates.delete, name="delete"),
]
