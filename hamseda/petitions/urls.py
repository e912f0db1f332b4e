from django.urls import path

from hamseda.petitions.views import organize, public

app_name = "petitions"

urlpatterns = [
    path("p/<slug:slug>/", public.detail, name="detail"),
    path("p/<slug:slug>/sign", public.sign, name="sign"),
    path("p/<slug:slug>/confirm/<str:token>", public.confirm, name="confirm"),
    path("p/<slug:slug>/withdraw/<str:token>", public.withdraw, name="withdraw"),
]

organize_patterns = (
    [
        path("", organize.dashboard, name="dashboard"),
        path("petitions/new", organize.create, name="create"),
        path("petitions/<slug:slug>/", organize.numbers, name="petition"),
        path("petitions/<slug:slug>/edit", organize.edit, name="edit"),
        path("petitions/<slug:slug>/preview", organize.preview, name="preview"),
        path("petitions/<slug:slug>/submit", organize.submit, name="submit"),
        path("moderate/", organize.queue, name="queue"),
        path("moderate/<slug:slug>/<str:action>", organize.moderate, name="moderate"),
    ],
    "organize",
)
