from django.urls import path

from bastion.notices import views

app_name = "notices"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:delivery_id>/", views.delivery, name="delivery"),
    path("read-all/", views.read_all, name="read_all"),
    path("sent/", views.sent, name="sent"),
    path("sent/<int:notification_id>/", views.receipts, name="receipts"),
]
