from django.urls import path

from bastion.accounts import views

app_name = "accounts"
urlpatterns = [
    path("reveals/", views.reveal_log, name="reveal_log"),
    path("changes/", views.changes, name="changes"),
]
