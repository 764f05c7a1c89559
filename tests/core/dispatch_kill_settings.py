"""Settings for the kill -9 test's worker: Voronka plus a consumer that writes a note per
event (see tests/core/dispatch_kill_app.py)."""

from voronka.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.core.dispatch_kill_app.DispatchKillConfig"]  # noqa: F405
