from django.urls import path

from dpi.accounts import views

urlpatterns = [
    path("", views.my_account, name="my_account"),
    path("adresse/", views.change_contact, name="my_account_contact"),
    path("adresse/code/", views.confirm_code, name="my_account_code"),
]
