from django.urls import path

from bastion.testing import views, views_finder

app_name = "testing"
urlpatterns = [
    path("", views.index, name="index"),
    path("rounds/<int:round_id>/", views.round_detail, name="round"),
    path("rounds/<int:round_id>/missing/", views.missing, name="missing"),
    path("rounds/<int:round_id>/home/", views.home_visits, name="home_visits"),
    path("rounds/<int:round_id>/retests/", views.retests, name="retests"),
    path("rounds/<int:round_id>/throughput/", views.throughput, name="throughput"),
    path("rounds/<int:round_id>/throughput.json", views.throughput_data, name="throughput_data"),
    path("rounds/<int:round_id>/results/", views.results_import, name="results_import"),
    path("tubes/<int:tube_id>/", views.tube, name="tube"),
    path("tubes/", views.tube_find, name="tube_find"),
    path("sites/", views.sites, name="sites"),
    path("sites/<int:site_id>/", views.site_plan, name="site"),
    path("stations/<int:station_id>/", views.station, name="station"),
    path("stations/<int:station_id>/toggle/", views.station_toggle, name="station_toggle"),
    path("stations/<int:station_id>/queue/", views_finder.station_queue, name="station_queue"),
    path("codes/<int:node_id>/", views.codes, name="codes"),
]
