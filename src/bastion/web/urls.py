from django.urls import path

from bastion.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("sw.js", views.service_worker, name="service_worker"),
]
