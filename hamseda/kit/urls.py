from django.urls import path

from hamseda.kit.views import frame, organize, public

app_name = "kit"

urlpatterns = [
    path("p/<slug:slug>/kit/", public.petition_kit, name="petition_kit"),
    path("p/<slug:slug>/kit/<str:size>.png", public.petition_image, name="petition_image"),
    path("p/<slug:slug>/kit.zip", public.petition_zip, name="petition_zip"),
    path("p/<slug:slug>/poster-<str:paper>.pdf", public.poster, name="poster"),
    path("c/<slug:slug>/kit/", public.campaign_kit, name="campaign_kit"),
    path("c/<slug:slug>/kit/frame/", frame.frame, name="frame"),
    path("c/<slug:slug>/kit/frame.png", frame.frame_overlay, name="frame_overlay"),
    path("organize/campaigns/<slug:slug>/design", organize.design, name="design"),
    path(
        "organize/campaigns/<slug:slug>/design/preview/<slug:petition>/<str:size>-<str:language>.png",
        organize.design_preview,
        name="design_preview",
    ),
]
