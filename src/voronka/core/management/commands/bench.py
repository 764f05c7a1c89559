"""``voronka bench``: measure the main workloads against raw SQL (see bench/README.md).

The harness lives in the ``bench`` package at the repository root, next to ``src/``. It is
importable when Voronka runs from a checkout (``pip install -e .`` from the repo root, or the
current directory being the repo root); otherwise the repo root is found from this file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


def _import_bench() -> Any:
    try:
        import bench.harness
    except ImportError:
        for parent in Path(__file__).resolve().parents:
            if (parent / "bench" / "harness.py").exists():
                sys.path.insert(0, str(parent))
                break
        else:
            raise CommandError(
                "the bench package was not found: run voronka bench from a Voronka checkout"
            ) from None
        import bench.harness
    import bench.workloads

    return bench


class Command(BaseCommand):
    help = "Benchmark the main workloads on a generated dataset, against raw SQL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", default="100k", help="10k, 100k, 1m or a number")
        parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
        parser.add_argument("--only", default="", help="workloads to run, e.g. W1,W2")
        parser.add_argument("--out", default="", help="folder for results (bench/results)")
        parser.add_argument("--port", type=int, default=0, help="server port (default: free)")
        parser.add_argument("--clients", type=int, default=8, help="HTTP client threads")
        parser.add_argument("--iterations", type=int, default=0, help="timed calls per case")
        parser.add_argument(
            "--import-rows", default="", help="rows of W3's file (default 100k, at most the scale)"
        )
        parser.add_argument("--smoke", action="store_true", help="tiny and quick: for tests")
        parser.add_argument(
            "--reuse", action="store_true", help="keep a dataset of the same scale if loaded"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bench = _import_bench()
        try:
            scale = bench.parse_scale(options["scale"])
            import_rows = (
                bench.parse_scale(options["import_rows"]) if options["import_rows"] else None
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        only = [w.strip().upper() for w in options["only"].split(",") if w.strip()] or None
        unknown = [w for w in only or [] if w not in bench.workloads.WORKLOADS]
        if unknown:
            raise CommandError(f"unknown workloads: {', '.join(unknown)} (W1 … W8)")
        dbs = ["sqlite", "postgres"] if options["db"] == "both" else [options["db"]]
        out = Path(options["out"]) if options["out"] else bench.harness.DEFAULT_OUT
        _report, status = bench.harness.run(
            scale=scale, dbs=dbs, only=only, out=out.resolve(), data_dir=settings.DATA_DIR,
            smoke=options["smoke"], reuse=options["reuse"], port=options["port"],
            clients=options["clients"], iterations=options["iterations"] or None,
            import_rows=import_rows,
            echo=lambda text: self.stdout.write(str(text)),
        )  # fmt: skip
        if status:
            raise CommandError("the benchmark failed: see the messages above")
