from django.urls import path

from bastion.incidents import views

app_name = "incidents"
urlpatterns = [
    path("", views.index, name="index"),
    path("set/", views.area_set, name="set"),
    path("<int:area_id>/lift/", views.area_lift, name="lift"),
    path("<int:area_id>/revert/", views.area_revert, name="revert"),
]
