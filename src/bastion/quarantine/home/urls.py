from django.urls import path

from bastion.quarantine.home import views

# Included by `quarantine.urls` under "home/" (names in the "quarantine" namespace).
urlpatterns = [
    path("", views.index, name="home_index"),
    path("due/", views.due, name="home_due"),
    path("<int:measure_id>/", views.measure, name="home_measure"),
    path("<int:measure_id>/end/", views.end, name="home_end"),
    path("<int:measure_id>/reveal/<str:field>/", views.reveal, name="home_reveal"),
    path("h/<str:token>/", views.household, name="home_household"),
]
