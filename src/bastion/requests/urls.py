from django.urls import path

from bastion.requests import home, views

app_name = "requests"
urlpatterns = [
    # Staff pages
    path("", views.index, name="index"),
    path("new/", views.request_new, name="new"),
    path("<int:pk>/", views.request_detail, name="detail"),
    path("<int:pk>/phone/", views.request_phone, name="phone"),
    path("<int:pk>/<slug:action>/", views.request_act, name="act"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("overdue/", views.overdue, name="overdue"),
    path("figures/", views.figures, name="figures"),
    path("meetings/", views.meetings, name="meetings"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path(
        "meetings/<int:pk>/items/<int:request_id>/assign/",
        views.meeting_assign,
        name="meeting_assign",
    ),
    path("meetings/<int:pk>/minutes/", views.minutes, name="minutes"),
    path("errands/", views.errands, name="errands"),
    path("errands/new/", views.errand_new, name="errand_new"),
    path("errands/places/", views.errand_places, name="errand_places"),
    path("errands/<int:pk>/", views.errand_detail, name="errand"),
    path("errands/<int:pk>/phone/<slug:whose>/", views.errand_phone, name="errand_phone"),
    path("errands/<int:pk>/<slug:action>/", views.errand_act, name="errand_act"),
    path("courier/", views.courier, name="courier"),
    path("links/", views.links, name="links"),
    path("links/buildings/<int:building_id>/issue/", views.links_issue, name="links_issue"),
    path("links/buildings/<int:building_id>/sheet/", views.link_sheet, name="link_sheet"),
    path("links/households/<int:household_id>/", views.link_detail, name="link"),
    path("links/households/<int:household_id>/qr.svg", views.link_qr, name="link_qr"),
    path("links/households/<int:household_id>/<slug:action>/", views.link_act, name="link_act"),
    # The household's own page (its secret link; no login)
    path("h/<str:token>/", home.home, name="home"),
    path("h/<str:token>/requests/new/", home.request_new, name="home_request_new"),
    path("h/<str:token>/requests/<int:pk>/", home.request_detail, name="home_request"),
    path("h/<str:token>/errands/new/", home.errand_new, name="home_errand_new"),
    path("h/<str:token>/errands/<int:pk>/", home.errand_detail, name="home_errand"),
    path("h/<str:token>/<slug:kind>/<int:pk>/<slug:action>/", home.act, name="home_act"),
    path("h/<str:token>/photos/<int:pk>/", home.photo, name="home_photo"),
]
