"""Coalition partners (namespace "partners", mounted at the site root): the campaign
organisers' pages, and a partner's own (campaigns.partner_views)."""

from django.urls import path

from hamseda.campaigns import partner_views

urlpatterns: list = [
    path(
        "organize/campaigns/<slug:campaign>/partners/",
        partner_views.partner_list,
        name="list",
    ),
    path("organize/partners/<int:pk>/edit", partner_views.partner_edit, name="edit"),
    path("organize/partners/<int:pk>/remove", partner_views.partner_remove, name="remove"),
    path("organize/partnerships/", partner_views.mine, name="mine"),
    path(
        "organize/partnerships/<slug:org>/<slug:campaign>/contacts",
        partner_views.contacts,
        name="contacts",
    ),
]
