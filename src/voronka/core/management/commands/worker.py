"""``voronka worker``: run background tasks (imports, exports, mailings, automation).

With the default task backend (the database) this is django-tasks-db's ``db_worker`` over every
queue, plus the periodic jobs of :mod:`voronka.core.periodic` in a thread. ``voronka serve`` runs
one as its child; run more with this command to scale out."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError, close_old_connections

# Set by ``voronka serve`` for its child: the worker stops when that parent is gone, so a
# server killed with SIGKILL leaves no orphan worker behind.
PARENT_PID_ENV = "VORONKA_WORKER_PARENT_PID"


log = logging.getLogger("voronka.worker")


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(1)
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)
            return


class Command(BaseCommand):
    help = "Run the background worker (the tasks queued in the database)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue", default="*", help="queues to work on, comma-separated (default: all)"
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between polls when idle"
        )
        parser.add_argument("--batch", action="store_true", help="run the queued tasks, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        parent = os.environ.get(PARENT_PID_ENV, "")
        if parent.isdigit():
            threading.Thread(target=_watch_parent, args=(int(parent),), daemon=True).start()
            # Under ``serve`` the server stops us; its "press Ctrl+C again" hint would mislead.
            logging.getLogger("django_tasks_db").addFilter(
                lambda record: "shutting down gracefully" not in record.getMessage()
            )
        # Periodic jobs (reminders due, schedules, retries) run beside the task loop in every
        # worker; each job claims its rows, so several workers do not repeat work.
        from voronka.core import periodic

        stop = threading.Event()
        threading.Thread(target=periodic.loop, args=(stop,), name="periodic", daemon=True).start()
        try:
            self._run_tasks(options)
        finally:
            stop.set()

    def _run_tasks(self, options: dict[str, Any]) -> None:
        backend = str(settings.TASKS.get("default", {}).get("BACKEND", ""))
        if backend == "django_tasks_db.DatabaseBackend":
            while True:
                try:
                    call_command(
                        "db_worker",
                        queue_name=options["queue"],
                        interval=options["interval"],
                        batch=options["batch"],
                        reload=False,
                        startup_delay=False,
                        verbosity=options["verbosity"],
                    )
                    return
                except OperationalError as exc:
                    # SQLite answers "database is locked" under write contention; the task
                    # rows are durable, so the loop starts again instead of the worker dying.
                    log.warning("task loop stopped (%s); starting it again", exc)
                    close_old_connections()
                    time.sleep(1.0)
        if "rqworker" in _commands():
            queues = [] if options["queue"] == "*" else options["queue"].split(",")
            call_command("rqworker", *queues, burst=options["batch"])
            return
        raise CommandError(
            f"no worker for the task backend {backend!r}: "
            "use the database backend (unset VORONKA_TASK_BACKEND)"
        )


def _commands() -> set[str]:
    from django.core.management import get_commands

    return set(get_commands())
