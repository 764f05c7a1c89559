from voronka.inbox.views import urlpatterns

app_name = "inbox"
__all__ = ["app_name", "urlpatterns"]
