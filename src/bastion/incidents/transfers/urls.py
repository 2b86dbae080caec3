from django.urls import path

from bastion.incidents.transfers import views

app_name = "transfers"
urlpatterns = [
    path("", views.index, name="index"),
    path("plan/", views.plan, name="plan"),
    path("<int:transfer_id>/depart/", views.depart, name="depart"),
    path("<int:transfer_id>/arrive/", views.arrive, name="arrive"),
    path("<int:transfer_id>/cancel/", views.cancel, name="cancel"),
    path("<int:transfer_id>/reveal/", views.reveal, name="reveal"),
]
