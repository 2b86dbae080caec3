from django.urls import include, path

from bastion.quarantine import views

app_name = "quarantine"
urlpatterns = [
    path("", views.index, name="index"),
    path("home/", include("bastion.quarantine.home.urls")),
    path("<int:quarantine_id>/", views.board, name="board"),
    path("<int:quarantine_id>/rooms/", views.rooms, name="rooms"),
    path("<int:quarantine_id>/intake/", views.intake, name="intake"),
    path("<int:quarantine_id>/checks/", views.checks, name="checks"),
    path("rooms/<int:room_id>/disinfected/", views.room_disinfected, name="room_disinfected"),
    path("stays/<int:stay_id>/", views.stay, name="stay"),
    path("stays/<int:stay_id>/notice/", views.notice, name="notice"),
    path("stays/<int:stay_id>/reveal/<str:field>/", views.reveal, name="reveal"),
    path("stays/<int:stay_id>/<str:action>/", views.stay_act, name="stay_act"),
]
