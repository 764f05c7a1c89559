"""/accounts/: the user's own pages, password reset, and the administration (admins only).

Sign in and sign out live in ``voronka.web.urls`` under the plain names ``login`` and
``logout`` (settings.LOGIN_URL), at /accounts/login/ and /accounts/logout/."""

from django.urls import path

from voronka.accounts import views

app_name = "accounts"
urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("admin/users/", views.users, name="users"),
    path("admin/users/new/", views.user_new, name="user_new"),
    path("admin/users/<int:pk>/", views.user_edit, name="user_edit"),
    path("admin/users/<int:pk>/password/", views.user_password, name="user_password"),
    path("admin/teams/", views.teams, name="teams"),
    path("admin/teams/<int:pk>/rename/", views.team_rename, name="team_rename"),
    path("admin/teams/<int:pk>/delete/", views.team_remove, name="team_delete"),
    path("admin/roles/", views.roles, name="roles"),
]
