"""The shell's own pages, at the root of the site (no namespace): care-unit switch, notice, idle clock."""

from django.urls import path

from dpi import views

urlpatterns = [
    path("unite/", views.select_care_unit, name="select_care_unit"),
    path("information/", views.notice, name="notice"),
    path("accounts/inactivite/", views.idle_state, name="idle_state"),
]
