from django.urls import path

from bastion.geo import views

app_name = "geo"
urlpatterns = [
    path("node/<int:node_id>/", views.node_detail, name="node"),
    path("building/<int:node_id>/", views.building_detail, name="building"),
    path("household/<int:household_id>/", views.household_detail, name="household"),
    path("resident/<int:resident_id>/", views.resident_detail, name="resident"),
    path("resident/<int:resident_id>/edit/", views.resident_edit, name="resident_edit"),
    path(
        "resident/<int:resident_id>/reveal/<str:field>/",
        views.resident_reveal,
        name="resident_reveal",
    ),
    path("search/", views.search, name="search"),
]
