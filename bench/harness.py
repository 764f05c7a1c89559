"""Runs the benchmark: one child process per database, then one report.

The parent (``voronka bench``) picks the databases, starts ``python -m bench.harness --child``
for each with ``DATABASE_URL`` pointing at a bench database of its own (a SQLite file under
VORONKA_DATA_DIR/bench/, a PostgreSQL database ``voronka_bench`` dropped and re-created), and
merges what the children write into the report. A child sets up Django on that database,
migrates it, loads the dataset and runs the workloads; the user's own database is never
touched."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any

import bench
from bench import parse_scale, scale_label

ROOT = Path(bench.__file__).resolve().parent.parent
DEFAULT_OUT = Path(bench.__file__).resolve().parent / "results"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
IN_PROCESS = ("W1", "W2", "W8")
OVER_HTTP = ("W4", "W7")


# --- parent ----------------------------------------------------------------------------------


def postgres_base_url() -> tuple[str | None, str]:
    """The PostgreSQL server to use (from DATABASE_URL, else the local one) or why there is none."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = DEFAULT_PG
    try:
        import psycopg

        with psycopg.connect(_conninfo(url), connect_timeout=3):
            return url, ""
    except Exception as exc:
        return None, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _conninfo(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _with_dbname(url: str, name: str) -> str:
    head, _sep, tail = url.partition("://")
    rest, _q, query = tail.partition("?")
    server = rest.split("/", 1)[0]
    return f"{head}://{server}/{name}" + (f"?{query}" if query else "")


def run(
    *,
    scale: int,
    dbs: list[str],
    only: list[str] | None,
    out: Path,
    data_dir: Path,
    smoke: bool = False,
    reuse: bool = False,
    port: int = 0,
    clients: int = 8,
    iterations: int | None = None,
    import_rows: int | None = None,
    echo: Any = print,
) -> tuple[dict[str, Any], int]:
    """Run every database's child, write the report files; (report, exit status)."""
    from bench import report as report_mod

    started = time.time()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    children: dict[str, dict[str, Any]] = {}
    failed = False
    urls: dict[str, str] = {}
    for db in dbs:
        url, reason = _database_url(db, scale, data_dir)
        if url is None:
            children[db] = {"db": db, "skipped": f"PostgreSQL not reachable: {reason}"}
            echo(f"[bench] {db}: skipped ({reason})")
            failed = failed or len(dbs) == 1
        else:
            urls[db] = url
    common = ["--scale", str(scale), "--port", str(port), "--clients", str(clients),
              "--workdir", str(out / "logs")]  # fmt: skip
    if only:
        common += ["--only", ",".join(only)]
    if smoke:
        common.append("--smoke")
    if iterations:
        common += ["--iterations", str(iterations)]
    if import_rows:
        common += ["--import-rows", str(import_rows)]
    loads: dict[str, dict[str, Any]] = {}
    if len(urls) > 1:
        # The datasets are built side by side (each load is mostly one core: this process's
        # Python or the database server's), the workloads then run one database at a time on
        # an otherwise idle machine.
        echo(f"[bench] loading {scale:,} contacts into {', '.join(urls)} side by side")
        loads = _load_side_by_side(urls, common + (["--reuse"] if reuse else []), data_dir)
        for db, loaded in loads.items():
            if loaded.get("error"):
                children[db] = {"db": db, "error": loaded["error"]}
                failed = True
    for db, url in urls.items():
        if db in children:
            continue
        echo(f"[bench] {db}: {scale:,} contacts")
        extra = ["--reuse"] if reuse or db in loads else []
        children[db], status = _run_child(db, url, common + extra, data_dir)
        if db in loads and not loads[db].get("dataset_reused"):
            children[db]["dataset_reused"] = False
            children[db]["loaded_side_by_side"] = True
        if status != 0 or children[db].get("failed"):
            failed = True
    report = report_mod.build(
        scale=scale, children=children, only=only, smoke=smoke, seconds=time.time() - started
    )
    report["machine"]["load_average_at_start"] = load_at_start
    paths = report_mod.write(report, out)
    echo(report_mod.terminal(report))
    for path in paths:
        echo(f"[bench] wrote {path}")
    return report, 1 if failed else 0


def _database_url(db: str, scale: int, data_dir: Path) -> tuple[str | None, str]:
    """The bench database of ``db`` (never the user's own), or why there is none."""
    if db == "postgres":
        base, reason = postgres_base_url()
        if base is None:
            return None, reason
        return _with_dbname(base, os.environ.get("VORONKA_BENCH_DB_NAME", "voronka_bench")), ""
    path = data_dir / "bench" / f"bench-{scale_label(scale)}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}", ""


def _child_command(db: str, result: Path, args: list[str]) -> tuple[list[str], dict[str, str]]:
    cmd = [sys.executable, "-m", "bench.harness", "--child", "--db", db, "--result", str(result),
           *args]  # fmt: skip
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "voronka.settings",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
        ),
    }
    env.pop("VORONKA_TESTING", None)
    return cmd, env


def _run_child(db: str, url: str, args: list[str], data_dir: Path) -> tuple[dict[str, Any], int]:
    with tempfile.TemporaryDirectory(prefix="voronka-bench-") as tmp:
        result_path = Path(tmp) / "result.json"
        cmd, env = _child_command(db, result_path, args)
        env.update(DATABASE_URL=url, VORONKA_DATA_DIR=str(data_dir))
        proc = subprocess.run(cmd, cwd=ROOT, env=env, check=False)
        if result_path.exists():
            return json.loads(result_path.read_text()), proc.returncode
        return {"db": db, "error": f"the child exited {proc.returncode}"}, proc.returncode or 1


def _load_side_by_side(
    urls: dict[str, str], args: list[str], data_dir: Path
) -> dict[str, dict[str, Any]]:
    """Build every database's dataset at once (``--load-only`` children); what each reported."""
    loads: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="voronka-bench-load-") as tmp:
        procs = {}
        for db, url in urls.items():
            cmd, env = _child_command(db, Path(tmp) / f"{db}.json", [*args, "--load-only"])
            env.update(DATABASE_URL=url, VORONKA_DATA_DIR=str(data_dir))
            procs[db] = subprocess.Popen(cmd, cwd=ROOT, env=env)
        for db, proc in procs.items():
            code = proc.wait()
            path = Path(tmp) / f"{db}.json"
            if code == 0 and path.exists():
                loads[db] = json.loads(path.read_text())
            else:
                loads[db] = {"error": f"loading the dataset failed (exit {code})"}
    return loads


# --- child -----------------------------------------------------------------------------------


def _recreate_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    maintenance = _with_dbname(url, "postgres")
    with psycopg.connect(_conninfo(maintenance), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _postgres_exists(url: str) -> bool:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    with psycopg.connect(_conninfo(_with_dbname(url, "postgres")), autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


def _settings(args: argparse.Namespace) -> Any:
    from bench.workloads.common import Settings

    if args.smoke:
        settings = Settings(iterations=3, warmup=1, max_seconds=2, clients=2, http_requests=20,
                            http_seconds=5, mix_levels=(1, 2), mix_seconds=1.0)  # fmt: skip
    else:
        settings = Settings(clients=args.clients)
        if args.scale >= 1_000_000:
            # At a million a run must fit in 20 minutes for both databases: 15 timed calls
            # (3 s at most) per case still give a p95 of their own; 10 s of HTTP load per W4
            # phase.
            settings.iterations, settings.max_seconds, settings.http_seconds = 15, 3.0, 10.0
    if args.import_rows:
        settings.import_rows = int(args.import_rows)
    if args.iterations:
        settings.iterations = args.iterations
    settings.port = args.port
    settings.smoke = args.smoke
    return settings


def _db_version() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SHOW server_version")
            version = f"PostgreSQL {cur.fetchone()[0]}"
            cur.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
            return f"{version} (collation {cur.fetchone()[0]})"
        cur.execute("SELECT sqlite_version()")
        return f"SQLite {cur.fetchone()[0]}"


def _load_dataset(scale: int, reuse: bool, log: Any) -> tuple[Any, bool]:
    from django.core.management import call_command
    from django.db import connection

    from bench.dataset import GENERATOR_VERSION, DatasetInfo, build

    if reuse:
        try:
            with connection.cursor() as cur:
                cur.execute("SELECT info FROM bench_meta")
                stored = json.loads(cur.fetchone()[0])
            if stored["scale"] == scale and stored["generator_version"] == GENERATOR_VERSION:
                log("reusing the dataset already loaded")
                return DatasetInfo(**stored), True
        except Exception:  # noqa: S110 - no usable dataset: build one
            pass
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_s = time.perf_counter() - t0
    log("migrated; loading the dataset")
    info = build(scale)
    info.seconds["migrate"] = migrate_s
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_meta (info TEXT)")
        cur.execute("DELETE FROM bench_meta")
        cur.execute("INSERT INTO bench_meta (info) VALUES (%s)", [json.dumps(info.as_dict())])
    return info, False


def child(args: argparse.Namespace) -> int:
    """Set up Django on the bench database given in DATABASE_URL and run the workloads."""
    db = args.db
    url = os.environ["DATABASE_URL"]

    def log(message: str) -> None:
        print(f"[bench] {db}: {message}", flush=True)

    reuse = args.reuse
    if db == "postgres":
        if not (reuse and _postgres_exists(url)):
            _recreate_postgres(url)
            reuse = False
    else:
        path = Path(url.removeprefix("sqlite:///"))
        if not (reuse and path.exists()):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            reuse = False

    import django

    django.setup()
    from bench.dataset import verify_sample
    from bench.workloads import (
        NOT_YET_BUILT,
        w1_list,
        w2_search,
        w3_import,
        w4_api,
        w5_funnel,
        w6_events,
        w7_mix,
        w8_export,
    )
    from bench.workloads.common import IdsMismatch, Result

    output: dict[str, Any] = {
        "db": db, "failed": False, "results": [], "problems": [], "workload_seconds": {},
    }  # fmt: skip
    scale = args.scale
    info, reused = _load_dataset(scale, reuse, log)
    output["version"] = _db_version()
    output["dataset"] = info.as_dict()
    output["dataset_reused"] = reused
    if not reused:
        rows = sum(info.rows.values())
        log(f"loaded {rows:,} rows in {info.seconds['total']:.1f} s "
            f"(generate {info.seconds['generate']:.1f} s, load {info.seconds['load']:.1f} s, "
            f"indexes {info.seconds['indexes']:.1f} s, "
            f"search index {info.seconds['search_index']:.1f} s)")  # fmt: skip
    if args.load_only:
        Path(args.result).write_text(json.dumps(output, ensure_ascii=False, default=str))
        return 0
    problems = verify_sample(info)
    if problems:
        output["problems"] = problems[:20]
        output["failed"] = True
        log(f"DATASET DIFFERS FROM WHAT THE SERVICES WRITE: {problems[:3]}")
    settings = _settings(args)
    workdir = Path(args.workdir)
    selected = args.only.split(",") if args.only else None
    runners: dict[str, Any] = {
        "W1": lambda: w1_list.run(info, db, settings),
        "W2": lambda: w2_search.run(info, db, settings),
        "W5": lambda: w5_funnel.run(info, db, settings),
        "W6": lambda: w6_events.run(info, db, settings),
        "W8": lambda: w8_export.run(info, db, settings),
        "W4": lambda: w4_api.run(info, db, settings, workdir),
        "W7": lambda: w7_mix.run(info, db, settings, workdir),
        # Last: it creates contacts (then undoes them), which the others must not see.
        "W3": lambda: w3_import.run(info, db, settings),
    }
    for workload, runner in runners.items():
        if selected and workload not in selected:
            continue
        log(f"{workload} …")
        t0 = time.perf_counter()
        try:
            results = runner()
        except IdsMismatch as exc:
            output["failed"] = True
            log(f"{workload} MISMATCH: {exc}")
            results = [Result(workload=workload, case="ids check", db=db, status="MISMATCH",
                              ids_match=False, passed=False, note=str(exc))]  # fmt: skip
        except Exception as exc:
            output["failed"] = True
            log(f"{workload} ERROR: {exc!r}")
            traceback.print_exc()
            results = [Result(workload=workload, case="run", db=db, status="error",
                              passed=False, note=f"{type(exc).__name__}: {exc}")]  # fmt: skip
        took = time.perf_counter() - t0
        output["workload_seconds"][workload] = round(took, 1)
        log(f"{workload} done in {took:.1f} s")
        output["results"].extend(r.as_dict() for r in results)
    for workload, why in NOT_YET_BUILT.items():
        if not selected or workload in selected:
            output["results"].append(
                asdict(Result(workload=workload, case="—", db=db, status="not yet built", note=why))
            )
    Path(args.result).write_text(json.dumps(output, ensure_ascii=False, indent=1, default=str))
    return 1 if output["failed"] else 0


def machine() -> dict[str, Any]:
    memory = 0.0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    memory = int(line.split()[1]) / 2**20
    except OSError:
        pass
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.harness")
    parser.add_argument("--child", action="store_true", help="internal: one database's run")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--scale", default="100k")
    parser.add_argument("--only", default="")
    parser.add_argument("--result", default="")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--workdir", default=str(DEFAULT_OUT / "logs"))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=0)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--load-only", action="store_true", help="internal: build the dataset")
    parser.add_argument("--import-rows", default="")
    args = parser.parse_args(argv)
    if args.child:
        args.scale = int(args.scale)
        return child(args)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voronka.settings")
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    data_dir = Path(os.environ.get("VORONKA_DATA_DIR", Path.cwd() / "var")).resolve()
    _report, status = run(
        scale=parse_scale(args.scale), dbs=dbs,
        only=[w.strip().upper() for w in args.only.split(",") if w.strip()] or None,
        out=Path(args.out), data_dir=data_dir, smoke=args.smoke, reuse=args.reuse,
        port=args.port, clients=args.clients, iterations=args.iterations or None,
        import_rows=parse_scale(args.import_rows) if args.import_rows else None,
    )  # fmt: skip
    return status


if __name__ == "__main__":
    sys.exit(main())
