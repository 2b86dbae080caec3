from django.urls import path

from bastion.incidents import views
from bastion.incidents.response import views as response

app_name = "incidents"
urlpatterns = [
    path("", views.index, name="index"),
    path("set/", views.area_set, name="set"),
    path("<int:area_id>/lift/", views.area_lift, name="lift"),
    path("<int:area_id>/revert/", views.area_revert, name="revert"),
    # The outbreak response: cases, their proposals, the bundle's board.
    path("cases/", response.case_list, name="cases"),
    path("cases/new/", response.case_new, name="case_new"),
    path("cases/import/", response.cases_import, name="cases_import"),
    path("cases/<int:case_id>/", response.case_detail, name="case"),
    path("cases/<int:case_id>/confirm/", response.case_confirm, name="case_confirm"),
    path("bundles/<int:bundle_id>/", response.bundle_board, name="bundle"),
    path(
        "bundles/<int:bundle_id>/disinfections/",
        response.disinfection_new,
        name="disinfection_new",
    ),
    path("tasks/<int:task_id>/", response.task_update, name="task"),
]
