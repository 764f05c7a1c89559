app_name = "telegram"
urlpatterns: list = []
