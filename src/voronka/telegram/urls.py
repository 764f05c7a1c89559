"""The Telegram pages under /telegram/: the administrator's bots and the webhook Telegram
posts updates to (/telegram/hook/<path token>/)."""

from voronka.telegram import views

app_name = "telegram"
urlpatterns: list = [*views.urlpatterns]
