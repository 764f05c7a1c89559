from django.urls import path

from voronka.sales.feeds import calendar_feed_view

app_name = "sales"
urlpatterns: list = [
    path("calendar/<str:token>.ics", calendar_feed_view, name="calendar_feed"),
]
