from django.urls import path

from bastion.ledgers import views

app_name = "ledgers"
urlpatterns = [
    path("import/", views.import_page, name="import"),
    path("import/<int:job_id>/", views.job_page, name="job"),
    path("import/<int:job_id>/apply/", views.job_apply, name="job_apply"),
    path("import/<int:job_id>/progress/", views.job_progress, name="job_progress"),
    path("import/<int:job_id>/problems.xlsx", views.job_problems_download, name="job_problems"),
    path("template.xlsx", views.template_download, name="template"),
    path("export/", views.export_page, name="export"),
    path("export/<str:dataset>.xlsx", views.export_download, name="export_download"),
]
