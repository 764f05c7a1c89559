"""Background tasks of imports: thin adapters that call the services by job id."""

from __future__ import annotations

from django_tasks import task

from voronka.imports import runner


@task()
def import_run_task(job_id: int) -> str:
    """Import a queued job (or continue an abandoned one from its checkpoint)."""
    return runner.import_run(job_id)


@task()
def import_check_task(job_id: int) -> str:
    """Dry-run a job: count what the import would do, write nothing."""
    return runner.import_check_run(job_id)


@task()
def import_undo_task(job_id: int) -> str:
    """Undo a finished import."""
    return runner.import_undo_run(job_id)
