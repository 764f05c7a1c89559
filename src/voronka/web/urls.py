"""The shell, mounted at "/" without a namespace: home, search, the language switch, and the
plain-named ``login``/``logout`` that settings.LOGIN_URL and LOGOUT_REDIRECT_URL use."""

from django.urls import path

from voronka.accounts import views as account_views
from voronka.web import notifications, views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("language/", views.set_language, name="set_language"),
    path("notifications/", notifications.notifications_page, name="notifications"),
    path("notifications/count/", notifications.notifications_count, name="notifications_count"),
    path("notifications/menu/", notifications.notifications_menu, name="notifications_menu"),
    path(
        "notifications/read-all/",
        notifications.notifications_read_all,
        name="notifications_read_all",
    ),
    path("notifications/<int:pk>/", notifications.notification_open, name="notification_open"),
    path("notifications/<int:pk>/read/", notifications.notification_read, name="notification_read"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", account_views.LogoutView.as_view(), name="logout"),
]
