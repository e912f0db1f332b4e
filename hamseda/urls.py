from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.static import serve

from hamseda import views
from hamseda.api.views import api
from hamseda.campaigns import views as campaign_views
from hamseda.petitions.urls import organize_patterns

handler400 = "hamseda.views.bad_request"
handler403 = "hamseda.views.forbidden"
handler404 = "hamseda.views.not_found"
handler500 = "hamseda.views.server_error"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
]

urlpatterns += i18n_patterns(
    path("", campaign_views.home, name="home"),
    path("c/<slug:slug>/", campaign_views.detail, name="campaign"),
    path("", include("hamseda.petitions.urls")),
    path("organize/", include(organize_patterns)),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="orgs/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    prefix_default_language=False,
)
