from django.urls import path

from voronka.inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.inbox, name="list"),
    path("<int:pk>/", views.conversation, name="conversation"),
]
