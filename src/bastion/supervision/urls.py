from django.urls import path

from bastion.supervision import views

app_name = "supervision"
urlpatterns = [
    path("", views.index, name="index"),
    path("inspect/", views.inspect, name="inspect"),
    path("findings/<int:finding_id>/", views.finding, name="finding"),
    path("findings/<int:finding_id>/fix/", views.fix, name="fix"),
    path("findings/<int:finding_id>/recheck/", views.recheck, name="recheck"),
    path("findings/<int:finding_id>/photos/<int:photo_id>/", views.photo, name="photo"),
    path("ledger/", views.ledger, name="ledger"),
    path("patrols/", views.patrols, name="patrols"),
    path("checklists/", views.checklists, name="checklists"),
    path("checklists/<int:item_id>/", views.checklist_item, name="checklist_item"),
]
