from django.urls import path

from bastion.people import views
from bastion.people.mobilization import urls as mobilization_urls

app_name = "people"
urlpatterns = [
    path("vacancies/", views.vacancy_report, name="vacancies"),
    path("posts/", views.post_list, name="posts"),
    path("posts/assign/", views.post_assign, name="post_assign"),
    path("posts/<int:post_id>/end/", views.post_end, name="post_end"),
    path("persons/search/", views.person_search, name="person_search"),
    path("persons/<int:person_id>/reveal/<str:field>/", views.person_reveal, name="person_reveal"),
    path("buildings/<int:building_id>/notice/", views.building_notice, name="building_notice"),
]

# Mobilization (issue 6): the pool, deployments, report-in, places and rosters, teams,
# allowances. The report-in form is public (no login).
urlpatterns += mobilization_urls.urlpatterns
