"""A tiny app for the kill -9 test: registers a consumer that inserts one note per event."""

from __future__ import annotations

from django.apps import AppConfig


def _handle(event: object) -> None:
    from voronka.core.models import Note

    Note.objects.create(
        content_type_id=1,
        object_id=event.entity_id,
        body_html=f"kill:{event.id}",  # type: ignore[attr-defined]
    )


class DispatchKillConfig(AppConfig):
    name = "tests.core.dispatch_kill_app"
    label = "dispatch_kill_app"

    def ready(self) -> None:
        from voronka.core.dispatch import consumers, register_consumer, unregister_consumer

        # Only this consumer: the test is about the dispatcher, not other apps' handlers.
        for other in consumers():
            unregister_consumer(other.name)
        register_consumer("test.kill", _handle, events={"kill.test"})
