from django.urls import path

from bastion.testing import views, views_custody, views_finder

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
    # chain of custody
    path("rounds/<int:round_id>/custody/", views_custody.round_custody, name="custody"),
    path("rounds/<int:round_id>/custody/bags/", views_custody.bag_open, name="custody_bag_open"),
    path("rounds/<int:round_id>/custody/boxes/", views_custody.box_open, name="custody_box_open"),
    path("rounds/<int:round_id>/custody/overdue/", views_custody.overdue, name="custody_overdue"),
    path("custody/find/", views_custody.find, name="custody_find"),
    path("bags/<int:bag_id>/", views_custody.bag, name="custody_bag"),
    path("bags/<int:bag_id>/pack/", views_custody.bag_pack, name="custody_bag_pack"),
    path("bags/<int:bag_id>/unpack/", views_custody.bag_unpack, name="custody_bag_unpack"),
    path("bags/<int:bag_id>/seal/", views_custody.bag_seal, name="custody_bag_seal"),
    path("boxes/<int:box_id>/", views_custody.box, name="custody_box"),
    path("boxes/<int:box_id>/bags/", views_custody.box_add, name="custody_box_add"),
    path("boxes/<int:box_id>/handover/", views_custody.box_handover, name="custody_box_handover"),
    path("boxes/<int:box_id>/receive/", views_custody.box_receive, name="custody_box_receive"),
    path(
        "handovers/<int:handover_id>/reveal/<str:which>/",
        views_custody.handover_reveal,
        name="custody_handover_reveal",
    ),
    path("tubes/<int:tube_id>/trail/", views_custody.trail, name="custody_trail"),
]
