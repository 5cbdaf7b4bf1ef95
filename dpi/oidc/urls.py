"""allauth includes ``<provider package>.urls`` for each registered provider (under ``/accounts/``)."""

from django.urls import include, path

from dpi.oidc import views

urlpatterns = [
    path("oidc/<str:provider_id>/ecps/", views.ciba_start, name="oidc_ciba"),
    path("oidc/<str:provider_id>/ecps/attente/", views.ciba_poll, name="oidc_ciba_poll"),
    path(
        "oidc/<str:provider_id>/",
        include(
            [
                path("login/", views.login, name="dpi_oidc_login"),
                path("login/callback/", views.callback, name="dpi_oidc_callback"),
            ]
        ),
    ),
]
