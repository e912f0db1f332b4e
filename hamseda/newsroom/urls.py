"""The newsroom (namespace "newsroom", mounted at the site root inside the language
prefixes): public press pages, Atom feeds and press kit; organisers' pages under
/organize/. `/c/<campaign>/press.atom` is a contract URL (DESIGN.md)."""

from django.urls import path

from hamseda.newsroom import feeds, views

urlpatterns: list = [
    path("press/", views.site_press, name="site_press"),
    path("press.atom", feeds.SiteFeed(), name="site_feed"),
    path("c/<slug:slug>/press/", views.campaign_press, name="campaign_press"),
    path("c/<slug:slug>/press/<slug:release>/", views.release_detail, name="release"),
    path("c/<slug:slug>/press.atom", feeds.CampaignFeed(), name="campaign_feed"),
    path("c/<slug:slug>/press-kit.zip", views.press_kit, name="press_kit"),
    path("organize/campaigns/<slug:slug>/press/", views.organize_list, name="organize_list"),
    path("organize/campaigns/<slug:slug>/press/new", views.organize_new, name="new"),
    path("organize/press/<slug:release>/edit", views.organize_edit, name="edit"),
    path("organize/press/<slug:release>/preview", views.preview, name="preview"),
    path("organize/press/<slug:release>/publish", views.publish, name="publish"),
    path("organize/press/<slug:release>/unpublish", views.unpublish, name="unpublish"),
    path("organize/org/<slug:org>/authors/", views.authors, name="authors"),
    path("organize/org/<slug:org>/authors/new", views.author_new, name="author_new"),
    path("organize/authors/<int:pk>/edit", views.author_edit, name="author_edit"),
]
