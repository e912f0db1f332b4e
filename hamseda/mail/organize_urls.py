"""The organisers' mail-out pages (namespace "mailouts", mounted at /organize/)."""

from django.urls import path

from hamseda.mail import organize_views as views

urlpatterns: list = [
    path("petitions/<slug:slug>/mailouts/", views.mailout_list, name="list"),
    path("petitions/<slug:slug>/mailouts/new", views.new, name="new"),
    path("org/<slug:slug>/mail-rate", views.rate, name="rate"),
    path("mailouts/<int:pk>/", views.detail, name="detail"),
    path("mailouts/<int:pk>/queue", views.queue, name="queue"),
    path("mailouts/<int:pk>/start", views.start, name="start"),
    path("mailouts/<int:pk>/pause", views.pause, name="pause"),
    path("mailouts/<int:pk>/cancel", views.cancel, name="cancel"),
    path("mailouts/<int:pk>/test", views.test_copy, name="test"),
    path("mailouts/<int:pk>/progress.json", views.progress, name="progress"),
]
