from django.urls import path

from voronka.automation import views

app_name = "automation"
urlpatterns = [
    path("", views.rule_list, name="rules"),
    path("new/", views.rule_new, name="rule_new"),
    path("<int:pk>/", views.rule_edit, name="rule_edit"),
    path("<int:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("<int:pk>/runs/", views.rule_runs, name="rule_runs"),
    path("<int:pk>/test/", views.rule_test, name="rule_test"),
    path("recipes/", views.recipe_list, name="recipes"),
    path("rows/condition/", views.condition_row, name="condition_row"),
    path("rows/action/", views.action_row, name="action_row"),
    path("rows/trigger/", views.trigger_fields, name="trigger_fields"),
    path("rows/empty/", views.empty, name="empty"),
]
