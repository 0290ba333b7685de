"""Portal pages (served by Django's handler; included at the site root by oarlock/urls.py)."""

from django.conf import settings
from django.contrib.auth.views import LogoutView
from django.urls import path

from portal import home_view, key_limits_view, key_views, member_views, model_catalogue_view, usage_views
from portal.sign_in_view import SignInView

app_name = "portal"
urlpatterns = [
    path("", home_view.home, name="home"),
    path("accounts/login/", SignInView.as_view(), name="sign_in"),
    path("accounts/logout/", LogoutView.as_view(), name="sign_out"),
    path("keys/", key_views.keys_page, name="keys"),
    path("keys/<int:key_id>/revoke/", key_views.revoke_key, name="revoke_key"),
    path("keys/<int:key_id>/limits/", key_limits_view.edit_key_limits, name="edit_key_limits"),
    path("keys/<int:key_id>/rotate/", key_views.rotate_key, name="rotate_key"),
    path("usage/", usage_views.my_usage, name="usage"),
    path("usage/export.csv", usage_views.my_usage_csv, name="usage_csv"),
    path("usage/tenants/<int:tenant_id>/", usage_views.tenant_usage, name="tenant_usage"),
    path("usage/tenants/<int:tenant_id>/export.csv", usage_views.tenant_usage_csv, name="tenant_usage_csv"),
    path("models/", model_catalogue_view.model_catalogue, name="models"),
    path("tenants/<int:tenant_id>/members/", member_views.tenant_members, name="tenant_members"),
    path("tenants/<int:tenant_id>/members/<int:membership_id>/", member_views.change_member, name="change_member"),
]

if settings.OARLOCK_OIDC_ISSUER:
    from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

    from portal.oidc_backend import DiscoveringRequestView

    urlpatterns += [
        path("oidc/authenticate/", DiscoveringRequestView.as_view(), name="oidc_authenticate"),
        path("oidc/callback/", OIDCAuthenticationCallbackView.as_view(), name="oidc_callback"),
    ]
