from django.urls import path

from voronka.webhooks import views, views_jobs

app_name = "webhooks"
urlpatterns = [
    path("", views.subscriptions, name="subscriptions"),
    path("<int:pk>/", views.subscription, name="subscription"),
    path("<int:pk>/delete/", views.subscription_delete, name="subscription_delete"),
    path("<int:pk>/rotate-secret/", views.subscription_rotate, name="subscription_rotate"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<uuid:pk>/", views.delivery, name="delivery"),
    path("deliveries/<uuid:pk>/replay/", views.delivery_replay, name="delivery_replay"),
    path("jobs/", views_jobs.jobs, name="jobs"),
    path("jobs/<str:kind>/<str:pk>/retry/", views_jobs.job_retry, name="job_retry"),
    path("stage-actions/", views.stage_actions, name="stage_actions"),
    path("stage-actions/<int:pk>/delete/", views.stage_action_delete, name="stage_action_delete"),
    path("deals/<int:pk>/actions/", views.deal_stage_actions, name="deal_stage_actions"),
    path(
        "deals/<int:pk>/actions/<int:action_id>/run/",
        views.deal_stage_action_run,
        name="deal_stage_action_run",
    ),
    path(
        "deals/<int:pk>/runs/<uuid:run_id>/retry/",
        views.deal_stage_run_retry,
        name="deal_stage_run_retry",
    ),
]
