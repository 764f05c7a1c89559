"""The shell, mounted at "/" without a namespace: home, search, the language switch, and the
plain-named ``login``/``logout`` that settings.LOGIN_URL and LOGOUT_REDIRECT_URL use."""

from django.urls import path

from voronka.accounts import views as account_views
from voronka.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("language/", views.set_language, name="set_language"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", account_views.LogoutView.as_view(), name="logout"),
]
