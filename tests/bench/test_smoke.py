"""The benchmark harness must never rot: a tiny run of every workload, end to end.

It runs ``voronka bench --smoke`` in a subprocess on a data folder of its own, so the test
database of this pytest run is never involved. It asserts that the run completes and reports
every workload — not the numbers, which depend on the machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VORONKA = Path(sys.executable).parent / "voronka"


def _bench(tmp_path: Path, db: str, extra_env: dict[str, str]) -> dict:
    out = tmp_path / "results"
    env = {**os.environ, "VORONKA_DATA_DIR": str(tmp_path / "data"), **extra_env}
    env.pop("VORONKA_TESTING", None)
    proc = subprocess.run(
        [str(VORONKA), "bench", "--scale", "2k", "--db", db, "--smoke", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    report = json.loads((out / "latest-2k-smoke.json").read_text())
    assert (out / "latest-2k-smoke.md").read_text().startswith("# Voronka bench")
    assert "raw SQL" in proc.stdout  # the table was printed
    return report


def _check(report: dict, db: str) -> None:
    assert report["scale"] == 2000
    assert report["machine"]["cores"]
    info = report["databases"][db]
    assert info["version"]
    assert info["problems"] == []
    assert info["dataset"]["rows"]["customers_contact"] == 2000
    assert info["dataset"]["rows"]["customers_company"] == 400
    assert info["dataset"]["rows"]["sales_deal"] == 2000
    rows = [r for r in report["results"] if r["db"] == db]
    by_workload: dict[str, list[dict]] = {}
    for row in rows:
        by_workload.setdefault(row["workload"], []).append(row)
    assert sorted(by_workload) == ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"]
    assert [r["status"] for r in by_workload["W3"]] == ["measured", "measured"]
    assert by_workload["W3"][0]["ids_match"] is True  # created = the baseline's new rows
    for workload in ("W1", "W2", "W5", "W8"):
        for row in by_workload[workload]:
            assert row["status"] == "measured", row
            assert row["ids_match"] is True
            assert row["baseline"], row
            assert row["ratio"] is not None
    w1_cases = {r["case"] for r in by_workload["W1"]}
    assert "keyset next page" in w1_cases
    assert {r["user"] for r in by_workload["W1"]} == {"sales rep (team)", "administrator"}
    assert {r["case"] for r in by_workload["W5"]} == {"funnel", "kanban first screen"}
    assert all(r["status"] == "measured" and r["ours"] for r in by_workload["W6"])
    assert by_workload["W6"][0]["ids_match"] is True
    assert all(r["rows"] for r in by_workload["W2"]), "every search term must find something"
    assert {r["rows"] for r in by_workload["W8"] if r["user"] == "administrator"} == {2000}
    for workload in ("W4", "W7"):
        statuses = {r["status"] for r in by_workload[workload]}
        assert statuses <= {"measured", "not available"}, by_workload[workload]


def test_bench_smoke_sqlite(tmp_path: Path) -> None:
    report = _bench(tmp_path, "sqlite", {"DATABASE_URL": ""})
    _check(report, "sqlite")


def test_bench_smoke_postgres(tmp_path: Path) -> None:
    """In the PostgreSQL pass of ``make test``, on a bench database named after the test one."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("runs in the PostgreSQL pass (DATABASE_URL=postgres://…)")
    name = os.environ.get("VORONKA_TEST_DB_NAME", "test_voronka") + "_bench"
    report = _bench(tmp_path, "postgres", {"VORONKA_BENCH_DB_NAME": name})
    _check(report, "postgres")
