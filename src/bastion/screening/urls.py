from django.urls import path

from bastion.screening import views

app_name = "screening"
urlpatterns = [
    path("", views.index, name="index"),
    path("today/", views.today, name="today"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:campaign_id>/grids/<int:grid_id>/", views.grid_today, name="grid"),
    path(
        "campaigns/<int:campaign_id>/households/<int:household_id>/",
        views.household,
        name="household",
    ),
    path(
        "campaigns/<int:campaign_id>/households/<int:household_id>/mark/",
        views.household_mark,
        name="household_mark",
    ),
    path("lists/import/", views.call_list_import, name="call_list_import"),
    path("lists/<int:list_id>/", views.call_list_detail, name="call_list"),
    path("lists/<int:list_id>/rows/", views.call_rows_add, name="call_rows_add"),
    path("rows/<int:row_id>/resolve/", views.call_row_resolve, name="call_row_resolve"),
    path("callbacks/", views.callbacks, name="callbacks"),
    path("callbacks/<int:callback_id>/", views.callback_detail, name="callback"),
    path("follow-ups/", views.follow_ups, name="follow_ups"),
    path("follow-ups/<int:follow_up_id>/close/", views.follow_up_close, name="follow_up_close"),
]
