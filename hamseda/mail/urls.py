"""Public mail URLs (namespace `mail`): the unsubscribe link (DESIGN.md contract:
`/unsubscribe/<token>`)."""

from django.urls import path

from hamseda.mail import views

urlpatterns = [
    path("unsubscribe/<str:token>", views.unsubscribe_view, name="unsubscribe"),
]
