from django.urls import path

from bastion.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:node_id>/", views.dashboard, name="dashboard"),
    path("<int:node_id>/export.xlsx", views.export, name="export"),
    path("<int:node_id>/recompute/", views.recompute, name="recompute"),
    path(
        "<int:node_id>/recompute/<str:task_id>/",
        views.recompute_status,
        name="recompute_status",
    ),
    path("grids/<int:grid_id>/submit/", views.submit, name="submit"),
    path("grids/<int:grid_id>/remind/", views.remind, name="remind"),
]
