"""URL map: pages at the root, the versioned JSON API under /api/v1/, the staff console under /admin/."""

from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.files import protected_file
from accounts.views import home
from core.pwa import manifest, offline, service_worker
from core.views import csp_report, healthz
from matching.views import short_invitation, short_recommendation

admin.site.site_header = "零工市场 · 工作人员后台"
admin.site.site_title = "零工市场后台"
admin.site.index_title = "今日待办"

handler500 = "core.unavailable.server_error"  # a database outage is a 503, not a 500

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("jobs.api_urls")),
    path("", include("insurance.api_urls")),
    path("", include("wallet.api_urls")),
    path("", include("notifications.api_urls")),
    path("", include("matching.api_urls")),
    path("", include("disputes.api_urls")),
    path("", include("hall.api_urls")),
    path("", include("outreach.api_urls")),
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    # Nothing inline for the CSP: the start-up script is fetched from this same view (?script).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico where a document names no icon (a PDF, an API answer): no 404 for it.
    # The static URL is looked up per request: with hashed file names the manifest exists only after
    # collectstatic, so it cannot be read while the URLconf loads (manage.py check would fail).
    path("favicon.ico", lambda request: HttpResponsePermanentRedirect(static("img/favicon.svg"))),
    path("csp-report/", csp_report, name="csp-report"),
    # The installable site (core/pwa.py): the worker at the root, so its scope is every page.
    path("manifest.webmanifest", manifest, name="manifest"),
    path("sw.js", service_worker, name="service_worker"),
    path("offline/", offline, name="offline"),
    # MEDIA_URL points here: uploads are personal data, checked per request (accounts/files.py).
    path("media/<path:path>", protected_file, name="protected-file"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("", home, name="home"),
    # The short links SMS carry (a recommendation, an invitation): the path stays under 16 characters.
    path("r/<str:code>", short_recommendation, name="short_recommendation"),
    path("i/<str:code>", short_invitation, name="short_invitation"),
    path("jobs/", include("jobs.urls")),
    path("insurance/", include("insurance.urls")),
    path("wallet/", include("wallet.urls")),
    path("notifications/", include("notifications.urls")),
    path("matching/", include("matching.urls")),
    path("disputes/", include("disputes.urls")),
    path("hall/", include("hall.urls")),
    path("outreach/", include("outreach.urls")),
    path("live/", include("live.urls")),
    path("", include("accounts.urls")),
]
