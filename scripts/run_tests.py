"""What `make test` runs: static checks, then pytest on SQLite and on PostgreSQL.

PostgreSQL, Redis and Chromium are used when reachable. Without them their tests are skipped
with a reason; with CI=true they are required and their absence fails the run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def step(title: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
    print(f"\n=== {title}: {' '.join(cmd)}", flush=True)
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, check=False)
    print(f"=== {title}: exit {result.returncode} in {time.monotonic() - started:.0f}s", flush=True)
    if result.returncode != 0:
        sys.exit(result.returncode)


def postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else the reason."""
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("postgres://", "postgresql://"), connect_timeout=3):
            return None
    except Exception as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def main() -> None:
    env = {"VORONKA_DATA_DIR": str(ROOT / "var" / "test"), "VORONKA_TESTING": "1"}
    env.pop("DATABASE_URL", None)
    os.environ.pop("DATABASE_URL", None)
    step("ruff check", [str(BIN / "ruff"), "check", "."])
    step("ruff format", [str(BIN / "ruff"), "format", "--check", "."])
    step("mypy", [str(BIN / "mypy"), "src"])
    step(
        "migrations",
        [str(BIN / "voronka"), "manage", "makemigrations", "--check", "--dry-run"],
        env,
    )
    pytest = [str(BIN / "python"), "-m", "pytest", *sys.argv[1:]]
    step("pytest on SQLite", pytest, env)
    reason = postgres_reachable()
    if reason is not None:
        if CI:
            print(f"PostgreSQL is required in CI but not reachable at {PG_URL}: {reason}")
            sys.exit(1)
        print(f"\nSKIPPED: pytest on PostgreSQL: not reachable at {PG_URL}: {reason}")
        return
    step(
        "pytest on PostgreSQL",
        [*pytest, "-m", "not browser"],
        {**env, "DATABASE_URL": PG_URL},
    )


if __name__ == "__main__":
    main()
