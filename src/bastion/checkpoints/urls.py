from django.urls import path

from bastion.checkpoints import views
from bastion.checkpoints.loop import views as loop_views
from bastion.checkpoints.station import views as station_views

app_name = "checkpoints"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:checkpoint_id>/", views.board, name="board"),
    path("<int:checkpoint_id>/entry/", views.entry, name="entry"),
    path(
        "people/<int:occupant_id>/reveal/<str:field>/",
        views.occupant_reveal,
        name="occupant_reveal",
    ),
    path("gates/<int:gate_id>/", views.gate, name="gate"),
    path("gates/<int:gate_id>/pass/", views.gate_pass, name="gate_pass"),
    path("people/<int:occupant_id>/loop-pass/", loop_views.issue, name="loop_issue"),
    path("loop/<int:pass_id>/", loop_views.loop_pass, name="loop_pass"),
    path("arrivals/", loop_views.confirm, name="loop_confirm"),
    path("<int:checkpoint_id>/station/", station_views.station, name="station"),
    path("station/<int:visit_id>/leave/", station_views.station_leave, name="station_leave"),
]
