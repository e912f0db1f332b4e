from django.urls import path

from hamseda.integrity import views

app_name = "audit"

urlpatterns = [
    path("<slug:slug>/audit", views.log, name="log"),
    path("<slug:slug>/audit.csv", views.log_csv, name="csv"),
]
