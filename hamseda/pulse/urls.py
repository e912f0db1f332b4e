"""Pulse (namespace `pulse`, mounted at "" inside i18n_patterns): the campaign's
dashboard and its chart data, and the organisers' pages."""

from django.urls import path

from hamseda.pulse.views import organize, public

urlpatterns: list = [
    path("c/<slug:campaign>/pulse/", public.dashboard, name="dashboard"),
    path("c/<slug:campaign>/pulse/<slug:chart>.<str:fmt>", public.chart_data, name="chart_data"),
    path("organize/campaigns/<slug:campaign>/pulse/", organize.settings_page, name="organize"),
    path(
        "organize/campaigns/<slug:campaign>/pulse/sources/new",
        organize.add_source,
        name="add_source",
    ),
    path(
        "organize/pulse/sources/<int:source_id>/remove",
        organize.remove_source,
        name="remove_source",
    ),
    path(
        "organize/pulse/sources/<int:source_id>/pause", organize.pause_source, name="pause_source"
    ),
    path(
        "organize/pulse/sources/<int:source_id>/token",
        organize.replace_token,
        name="replace_token",
    ),
    path("organize/campaigns/<slug:campaign>/pulse/posts/", organize.posts, name="posts"),
    path("organize/pulse/posts/<int:post_id>/hide", organize.hide_post, name="hide_post"),
    path("organize/campaigns/<slug:campaign>/pulse/posts.csv", organize.export, name="export"),
]
