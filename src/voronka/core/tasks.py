"""Background tasks of the core. Tasks are thin adapters: load by id, call a service."""

from __future__ import annotations

from django_tasks import task


@task()
def ping() -> str:
    """Proves a worker is taking tasks: ``ping.enqueue()`` then its result turns "pong"."""
    return "pong"
