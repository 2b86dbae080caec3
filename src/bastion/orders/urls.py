from django.urls import path

from bastion.orders import views

app_name = "orders"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.issue, name="new"),
    path("<int:order_id>/", views.board, name="board"),
    path("<int:order_id>/files/<int:attachment_id>/", views.attachment, name="attachment"),
    path("<int:order_id>/photos/<int:recipient_id>/", views.photo, name="photo"),
    path("<int:order_id>/mine/", views.mine, name="mine"),
    path("<int:order_id>/mine/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<int:order_id>/mine/done/", views.done, name="done"),
    path("from-request/<int:request_id>/", views.from_decision, name="from_decision"),
]
