"""``voronka serve``: the CRM on waitress, with a background worker as a child process.

``--init`` (what ``make run`` passes) also migrates and, on the very first start, creates the
administrator and loads the demo data, so a fresh checkout is usable at once. Ctrl-C or SIGTERM
stops the server and the worker; a worker that dies is started again."""

from __future__ import annotations

import os
import secrets
import signal
import string
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from voronka.core.management.commands.worker import PARENT_PID_ENV

FIRST_LOGIN_FILE = "first-login.txt"
ADMIN_USERNAME = "admin"


def first_login_path() -> Path:
    return Path(settings.DATA_DIR) / FIRST_LOGIN_FILE


def generated_password() -> str:
    """Easy to type from the screen, hard to guess: three groups of four (about 62 bits)."""
    alphabet = string.ascii_lowercase + string.digits
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))


def read_first_login(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in {"Username", "Password"}:
            values[key.strip().lower()] = value.strip()
    return values


class WorkerSupervisor:
    """Runs ``voronka worker`` as a child and starts it again if it dies."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.process: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="worker-supervisor", daemon=True)

    def start(self) -> None:
        self._spawn()
        self.thread.start()

    def _spawn(self) -> None:
        env = {**os.environ, PARENT_PID_ENV: str(os.getpid())}
        # Its own process group: Ctrl-C in the terminal reaches only the server, which then
        # stops the worker once (a second SIGINT would make the worker abandon its task).
        self.process = subprocess.Popen(
            [sys.executable, "-m", "voronka", "worker"], env=env, process_group=0
        )

    def _loop(self) -> None:
        delay = 1.0
        while not self.stopping.is_set():
            assert self.process is not None
            code = self.process.wait()
            if self.stopping.wait(delay):
                return
            self.out.write(f"The background worker stopped (exit code {code}); starting it again.")
            self.out.flush()
            started = time.monotonic()
            self._spawn()
            # Back off when it keeps dying at once (a broken database, say); reset when it ran.
            delay = 1.0 if time.monotonic() - started > 60 else min(delay * 2, 30.0)

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _pending_migrations() -> int:
    """How many migrations the database lacks (all of them on a new data folder)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


class Command(BaseCommand):
    help = "Serve the CRM (waitress) with a background worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8, help="request threads (default 8)")
        parser.add_argument(
            "--init",
            action="store_true",
            help="migrate; on the first start create the administrator and load demo data",
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="do not start the background worker"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from waitress import create_server

        from voronka.wsgi import application

        host, port = options["host"], options["port"]
        try:
            # Bind first: a busy port should fail before anything else happens.
            server = create_server(application, host=host, port=port, threads=options["threads"])
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        display_host = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104
        url = f"http://{display_host}:{port}/"

        def stop(signum: int, frame: Any) -> None:
            # waitress re-raises KeyboardInterrupt from its loop (other errors it would log and
            # swallow) and returns from run(); during --init it rolls the transaction back.
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        supervisor = None
        if not options["init"] and (pending := _pending_migrations()):
            server.close()
            raise CommandError(
                f"the database has {pending} migrations to apply: start with `voronka serve"
                " --init` (or run `voronka manage migrate` first)"
            )
        try:
            if options["init"]:
                self._init(url)
            supervisor = None if options["no_worker"] else WorkerSupervisor(self.stdout)
            self._banner(url, supervisor is not None)
            if supervisor is not None:
                supervisor.start()
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            # No second signal may interrupt the clean-up.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self.stdout.write("Stopping…")
            server.close()
            if supervisor is not None:
                supervisor.stop()
            self.stdout.write("Stopped.")
            self.stdout.flush()

    # --- first start ---------------------------------------------------------------------------

    def _init(self, url: str) -> None:
        from voronka.accounts.models import User

        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            self.stdout.write(f"Preparing the database ({len(pending)} migrations)…")
            self.stdout.flush()
            call_command("migrate", interactive=False, verbosity=0)
        if User.objects.exists():
            return
        password = generated_password()
        lines = [
            "Voronka: the first login",
            f"Address:  {url}",
            f"Username: {ADMIN_USERNAME}",
            f"Password: {password}",
            "Change this password after you log in (your name, top right → Password).",
        ]
        # The file is written before the administrator exists: an interrupted first start
        # leaves no user whose password nobody knows (the next start begins again).
        self._write_first_login(lines)
        with transaction.atomic():
            self._create_admin(password)
            if os.environ.get("VORONKA_DEMO", "1") != "0":
                lines += self._load_demo()
        self._write_first_login(lines)

    def _write_first_login(self, lines: list[str]) -> None:
        path = first_login_path()
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _create_admin(self, password: str) -> None:
        from voronka.accounts.models import RoleCode
        from voronka.accounts.services import user_create

        user_create(
            username=ADMIN_USERNAME,
            password=password,
            first_name="Administrator" if settings.LANGUAGE_CODE == "en" else "Администратор",
            role_code=RoleCode.ADMIN,
            is_superuser=True,
        )

    def _load_demo(self) -> list[str]:
        from voronka.core.demo import generate

        companies = int(os.environ.get("VORONKA_DEMO_COMPANIES", "200"))
        contacts = int(os.environ.get("VORONKA_DEMO_CONTACTS", "1000"))
        self.stdout.write(
            f"Loading demo data ({companies} companies, {contacts} contacts, and sales)…"
        )
        self.stdout.flush()
        result = generate(companies=companies, contacts=contacts)
        return [
            "",
            f"Demo users ({', '.join(result.new_users)}) have the password: {result.user_password}",
        ]

    def _banner(self, url: str, worker: bool) -> None:
        from voronka.accounts.models import User

        path = first_login_path()
        login = read_first_login(path) if path.exists() else {}
        if login:
            admin = User.objects.filter(username=login.get("username", "")).first()
            if admin is None or not admin.check_password(login.get("password", "")):
                # The password was changed: the file's only secret is stale, remove it.
                path.unlink()
                login = {}
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Voronka is running at {url}"))
        if login:
            self.stdout.write(
                f"  Log in as {login['username']!r} with the password {login['password']}"
            )
            self.stdout.write(f"  (saved in {path}; change it after you log in)")
        elif not User.objects.exists():
            self.stdout.write(
                "  No users yet: run `voronka createuser NAME --role admin` to add one."
            )
        else:
            self.stdout.write("  Log in with your username and password.")
        if worker:
            self.stdout.write("  The background worker runs alongside. Press Ctrl+C to stop.")
        else:
            self.stdout.write("  No background worker (--no-worker). Press Ctrl+C to stop.")
        self.stdout.write("")
        self.stdout.flush()  # shown at once also when the output is a pipe (| tee, a service log)
