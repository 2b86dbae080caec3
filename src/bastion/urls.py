from django.contrib.auth import views as auth_views
from django.urls import include, path

from bastion.api import api
from bastion.testing.finder import views as finder_views

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
    path("incidents/", include("bastion.incidents.urls")),
    path("transfers/", include("bastion.incidents.transfers.urls")),
    # the public site finder (no login; a community's page is its QR link)
    path("find/", finder_views.finder_index, name="finder"),
    path("find/<int:community_id>/", finder_views.finder_community, name="finder_community"),
    path("notices/", include("bastion.notices.urls")),
    path("orders/", include("bastion.orders.urls")),
    path("supervision/", include("bastion.supervision.urls")),
    path("checkpoints/", include("bastion.checkpoints.urls")),
    path("quarantine/", include("bastion.quarantine.urls")),
    path("", include("bastion.web.urls")),
]
