from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from hamseda import views
from hamseda.api.views import api
from hamseda.api.widget import widget_script
from hamseda.campaigns import views as campaign_views
from hamseda.petitions.urls import organize_patterns
from hamseda.vault.views.privacy import privacy

handler400 = "hamseda.views.bad_request"
handler403 = "hamseda.views.forbidden"
handler404 = "hamseda.views.not_found"
handler500 = "hamseda.views.server_error"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path("api/v1/", api.urls),
    path("widget.js", widget_script, name="widget-js"),
    path("api/osdi/v1/", include(("hamseda.api.osdi_urls", "osdi"))),
    path("admin/", admin.site.urls),
    path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
]

urlpatterns += i18n_patterns(
    path("", campaign_views.home, name="home"),
    path("c/<slug:slug>/", campaign_views.detail, name="campaign"),
    path("privacy/", privacy, name="privacy"),
    path("", include("hamseda.petitions.urls")),
    path("", include("hamseda.kit.urls")),
    path("organize/", include(organize_patterns)),
    path("organize/org/", include("hamseda.orgs.urls")),
    path("organize/org/", include("hamseda.integrity.urls")),
    path("organize/", include("hamseda.integrity.moderation_urls")),
    path("organize/", include(("hamseda.vault.export_urls", "export"))),
    path("", include(("hamseda.vault.erasure_urls", "erasure"))),
    path("", include(("hamseda.petitions.updates_urls", "updates"))),
    path("", include(("hamseda.petitions.outcome_urls", "outcomes"))),
    path("organize/", include(("hamseda.petitions.delivery_urls", "delivery"))),
    path("organize/", include(("hamseda.mail.organize_urls", "mailouts"))),
    path("", include(("hamseda.mail.urls", "mail"))),
    path("", include(("hamseda.actions.urls", "actions"))),
    path("", include(("hamseda.actions.calendar_urls", "calendar"))),
    path("", include(("hamseda.newsroom.urls", "newsroom"))),
    path("", include(("hamseda.campaigns.partner_urls", "partners"))),
    path("", include(("hamseda.pulse.urls", "pulse"))),
    path("", include(("hamseda.api.widget_urls", "widget"))),
    path("organize/org/", include(("hamseda.api.organize_urls", "apikeys"))),
    path("accounts/", include("allauth.urls")),
    prefix_default_language=False,
)
