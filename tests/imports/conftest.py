"""Fixtures of the import tests: files written in the exact formats people have, and a helper
that runs a job's queued work the way a worker does (through the services the tasks call)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def pytest_configure(config: Any) -> None:
    # Registered here (pyproject.toml is not ours to edit); see test_worker_kill.py.
    config.addinivalue_line("markers", "slow: takes more than ~20 s (real worker processes)")


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def upload(db: Any) -> Callable[..., Any]:
    """``upload(user, "contacts", "name.csv", bytes)`` → the job waiting for its mapping."""
    from voronka.imports.services import import_upload

    def make(user: Any, entity: str, name: str, content: bytes) -> Any:
        return import_upload(actor=user, entity=entity, file_name=name, content=content)

    return make


@pytest.fixture
def run_import(db: Any) -> Callable[..., Any]:
    """Start the job and run it to the end in this process; the job reloaded."""
    from voronka.imports.models import ImportJob
    from voronka.imports.runner import import_run
    from voronka.imports.services import import_start

    def run(user: Any, job: Any, size: int | None = None, **config: Any) -> Any:
        import_start(actor=user, job=job, **config)
        assert import_run(job.pk, size=size) == "done"
        return ImportJob.objects.get(pk=job.pk)

    return run


@pytest.fixture
def check_import(db: Any) -> Callable[..., Any]:
    from voronka.imports.models import ImportJob
    from voronka.imports.runner import import_check_run
    from voronka.imports.services import import_check

    def run(user: Any, job: Any, size: int | None = None, **config: Any) -> Any:
        import_check(actor=user, job=job, **config)
        assert import_check_run(job.pk, size=size) == "checked"
        return ImportJob.objects.get(pk=job.pk)

    return run


@pytest.fixture(autouse=True)
def english() -> Any:
    """Messages are asserted in English, the source language."""
    from django.utils import translation

    with translation.override("en"):
        yield
