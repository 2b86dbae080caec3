from django.contrib.auth import views as auth_views
from django.urls import include, path

from bastion.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", api.urls),
    path("geo/", include("bastion.geo.urls")),
    path("people/", include("bastion.people.urls")),
    path("ledgers/", include("bastion.ledgers.urls")),
    path("accounts/", include("bastion.accounts.urls")),
    path("screening/", include("bastion.screening.urls")),
    path("reports/", include("bastion.reports.urls")),
    path("testing/", include("bastion.testing.urls")),
    path("requests/", include("bastion.requests.urls")),
    path("notices/", include("bastion.notices.urls")),
    path("", include("bastion.web.urls")),
]
