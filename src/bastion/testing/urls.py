from django.urls import path

from bastion.testing.custody import views as custody_views
from bastion.testing.finder import views as finder_views
from bastion.testing.results import views as result_views
from bastion.testing.rounds import views as round_views
from bastion.testing.scans import views as scan_views

app_name = "testing"
urlpatterns = [
    path("", round_views.index, name="index"),
    path("rounds/new/", round_views.round_new, name="round_new"),
    path("sites/new/", round_views.site_new, name="site_new"),
    path("sites/<int:site_id>/edit/", round_views.site_edit, name="site_edit"),
    path("sites/<int:site_id>/stations/", round_views.station_new, name="station_new"),
    path("rounds/<int:round_id>/", round_views.round_detail, name="round"),
    path("rounds/<int:round_id>/missing/", round_views.missing, name="missing"),
    path("rounds/<int:round_id>/home/", round_views.home_visits, name="home_visits"),
    path("rounds/<int:round_id>/retests/", result_views.retests, name="retests"),
    path("rounds/<int:round_id>/throughput/", round_views.throughput, name="throughput"),
    path(
        "rounds/<int:round_id>/throughput.json", round_views.throughput_data, name="throughput_data"
    ),
    path("rounds/<int:round_id>/results/", result_views.results_import, name="results_import"),
    path("tubes/<int:tube_id>/", result_views.tube, name="tube"),
    path("tubes/", result_views.tube_find, name="tube_find"),
    path("sites/", round_views.sites, name="sites"),
    path("sites/<int:site_id>/", round_views.site_plan, name="site"),
    path("stations/<int:station_id>/", scan_views.station, name="station"),
    path("stations/<int:station_id>/toggle/", scan_views.station_toggle, name="station_toggle"),
    path("stations/<int:station_id>/queue/", finder_views.station_queue, name="station_queue"),
    path("codes/<int:node_id>/", scan_views.codes, name="codes"),
    # chain of custody
    path("rounds/<int:round_id>/custody/", custody_views.round_custody, name="custody"),
    path("rounds/<int:round_id>/custody/bags/", custody_views.bag_open, name="custody_bag_open"),
    path("rounds/<int:round_id>/custody/boxes/", custody_views.box_open, name="custody_box_open"),
    path("rounds/<int:round_id>/custody/overdue/", custody_views.overdue, name="custody_overdue"),
    path("custody/find/", custody_views.find, name="custody_find"),
    path("bags/<int:bag_id>/", custody_views.bag, name="custody_bag"),
    path("bags/<int:bag_id>/pack/", custody_views.bag_pack, name="custody_bag_pack"),
    path("bags/<int:bag_id>/unpack/", custody_views.bag_unpack, name="custody_bag_unpack"),
    path("bags/<int:bag_id>/seal/", custody_views.bag_seal, name="custody_bag_seal"),
    path("bags/<int:bag_id>/reopen/", custody_views.bag_reopen, name="custody_bag_reopen"),
    path("boxes/<int:box_id>/", custody_views.box, name="custody_box"),
    path("boxes/<int:box_id>/bags/", custody_views.box_add, name="custody_box_add"),
    path("boxes/<int:box_id>/handover/", custody_views.box_handover, name="custody_box_handover"),
    path("boxes/<int:box_id>/receive/", custody_views.box_receive, name="custody_box_receive"),
    path(
        "handovers/<int:handover_id>/reveal/<str:which>/",
        custody_views.handover_reveal,
        name="custody_handover_reveal",
    ),
    path("tubes/<int:tube_id>/trail/", custody_views.trail, name="custody_trail"),
]
