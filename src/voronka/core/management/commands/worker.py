"""``voronka worker``: run background tasks (imports, exports, mailings, automation).

With the default task backend (the database) this is django-tasks-db's ``db_worker`` over every
queue; with ``REDIS_URL`` and ``VORONKA_TASK_BACKEND=rq`` it is an RQ worker on the backend's
queues. Either way the periodic jobs of :mod:`voronka.core.periodic` (event dispatch, automation,
e-mail and webhook delivery) run beside it in a thread. ``voronka serve`` runs one as its child;
run more with this command to scale out."""

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
STOP_GRACE_SECONDS = 8.0


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
        from voronka.core import dispatch, periodic

        stop = threading.Event()
        loop = threading.Thread(target=periodic.loop, args=(stop,), name="periodic", daemon=True)
        loop.start()
        # Events get a thread of their own: picked up within 0.1 s, not behind mail and webhooks.
        events_loop = dispatch.start_loop_thread(stop)
        try:
            self._run_tasks(options)
        finally:
            stop.set()
            events_loop.join(STOP_GRACE_SECONDS)
            # A graceful stop lets the job in progress finish (a claimed batch of e-mails or
            # webhooks half sent would otherwise go out again after its lease); ``serve``
            # waits 10 s before it kills the worker.
            loop.join(STOP_GRACE_SECONDS)

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
        if backend == "django_tasks_rq.RQBackend":
            self._run_rq(options)
            return
        raise CommandError(
            f"no worker for the task backend {backend!r}: "
            "use the database backend (unset VORONKA_TASK_BACKEND)"
        )

    def _run_rq(self, options: dict[str, Any]) -> None:
        """The RQ worker for the backend's queues, in this process, beside the periodic thread.

        ``django_tasks_rq.Job`` is what turns an RQ job back into a django-tasks call (RQ's own
        job class cannot run a ``Task``). The worker does not fork a child per job: forking a
        process whose periodic thread may hold a lock or an open database connection at that
        instant is unsafe, and our tasks are thin. RQ's scheduler (for ``run_after``, which no
        Voronka task uses) stays off: it is a forked process that outlives a worker killed with
        SIGKILL."""
        import django_rq
        from django_tasks_rq.backend import Job

        configured: Any = settings.TASKS.get("default", {}).get("QUEUES") or ["default"]
        queues = (
            [str(q) for q in configured] if options["queue"] == "*" else options["queue"].split(",")
        )
        worker = django_rq.get_worker(*queues, job_class=Job, worker_class=_simple_worker_class())
        level = "WARNING" if options["verbosity"] == 0 else "INFO"
        close_old_connections()
        worker.work(burst=options["batch"], logging_level=level)


def _simple_worker_class() -> type[Any]:
    from rq.worker import SimpleWorker

    class DjangoSimpleWorker(SimpleWorker):
        """Runs each job in the worker process with fresh database connections around it,
        as Django does around a request (a connection idle between jobs may have been closed
        by the server)."""

        def execute_job(self, job: Any, queue: Any) -> Any:
            close_old_connections()
            try:
                return super().execute_job(job, queue)
            finally:
                close_old_connections()

    return DjangoSimpleWorker
