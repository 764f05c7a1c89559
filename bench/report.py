"""The report: a table on the terminal, and JSON + Markdown files in bench/results/."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from bench import scale_label
from bench.workloads import WORKLOADS


def build(
    *,
    scale: int,
    children: dict[str, dict[str, Any]],
    only: list[str] | None,
    smoke: bool,
    seconds: float,
) -> dict[str, Any]:
    from bench.harness import machine

    results: list[dict[str, Any]] = []
    databases: dict[str, Any] = {}
    for db, child in children.items():
        databases[db] = {k: child.get(k) for k in KEPT if child.get(k) is not None}
        results.extend(child.get("results", []))
    order = list(WORKLOADS)
    results.sort(key=lambda r: (order.index(r["workload"]), r["db"]))
    return {
        "scale": scale,
        "scale_label": scale_label(scale),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "smoke": smoke,
        "seconds": round(seconds, 1),
        "machine": machine(),
        "databases": databases,
        "workloads": {w: name for w, name in WORKLOADS.items() if not only or w in only},
        "results": results,
    }


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}/s"


def _cells(r: dict[str, Any]) -> list[str]:
    ours, base = r.get("ours") or {}, r.get("baseline") or {}
    if r.get("status") != "measured":
        ours_text, base_text = r.get("status", ""), ""
    elif r["metric"] == "latency":
        ours_text = "/".join(_ms(ours.get(k)) for k in ("p50", "p95", "p99")) + " ms"
        if "per_s" in ours:
            ours_text += f", {_rate(ours['per_s'])}"
        if ours.get("errors"):
            ours_text += f", {ours['errors']:.0f} errors"
        base_text = (
            "/".join(_ms(base.get(k)) for k in ("p50", "p95", "p99")) + " ms" if base else "—"
        )
    elif r["metric"] == "rate":
        key = "rows_per_s" if "rows_per_s" in ours else "per_s"
        ours_text = _rate(ours.get(key))
        if "p95" in ours:
            ours_text += (
                f" (p50/p95/p99 {_ms(ours['p50'])}/{_ms(ours['p95'])}/{_ms(ours['p99'])} ms)"
            )
        if ours.get("errors"):
            ours_text += f", {ours['errors']:.0f} errors"
        base_text = _rate(base.get(key)) if base else "—"
    else:
        ours_text = f"{ours.get('users', 0):.0f} users"
        base_text = "—"
    ratio = r.get("ratio")
    queries = r.get("queries")
    bq = r.get("baseline_queries")
    q_text = "—" if queries is None else str(queries) + (f"/{bq}" if bq is not None else "")
    peak = r.get("peak_kb")
    mem = "—" if peak is None else (f"{peak / 1024:.0f} MB" if peak > 10240 else f"{peak:.0f} KB")
    passed = r.get("passed")
    verdict = "—" if passed is None else ("pass" if passed else "MISS")
    return [
        r["workload"], r.get("case", ""), r.get("user", ""), r["db"], ours_text, base_text,
        "—" if ratio is None else f"{ratio:.2f}×", q_text, mem, r.get("target") or "—", verdict,
    ]  # fmt: skip


KEPT = (
    "version", "dataset", "dataset_reused", "loaded_side_by_side", "problems", "skipped", "error",
    "workload_seconds",
)  # fmt: skip
HEADERS = [
    "W", "case", "as", "db", "ours", "raw SQL", "ratio", "queries", "memory", "target", "result",
]  # fmt: skip


def _header_lines(report: dict[str, Any]) -> list[str]:
    m = report["machine"]
    lines = [
        f"Voronka bench — {report['scale']:,} contacts ({report['scale_label']}), "
        f"{report['date']}{' (smoke)' if report['smoke'] else ''}",
        f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, {m['cpu']}, Python {m['python']}, "
        f"load average at the start {m.get('load_average_at_start')} and at the end"
        f" {m.get('load_average')} (the bench's own server and clients count at the end)",
        f"Whole run, datasets included: {int(report['seconds'] // 60)} min "
        f"{report['seconds'] % 60:.0f} s",
    ]
    if (m.get("load_average_at_start") or [0])[0] > (m["cores"] or 1):
        lines.append(
            "WARNING: the machine was busy with other work when the run started (load average"
            " above the core count): latencies are inflated; compare ratios, not absolute numbers"
        )
    for db, info in report["databases"].items():
        if "skipped" in info or "error" in info:
            lines.append(f"{db}: {info.get('skipped') or info.get('error')}")
            continue
        ds = info.get("dataset") or {}
        rows = sum((ds.get("rows") or {}).values())
        secs = ds.get("seconds") or {}
        reused = " (reused)" if info.get("dataset_reused") else ""
        if info.get("loaded_side_by_side"):
            reused = " (built side by side with the other database's)"
        lines.append(
            f"{db}: {info.get('version', '?')}; dataset {rows:,} rows loaded in "
            f"{secs.get('total', 0):.0f} s{reused}"
        )
        if took := info.get("workload_seconds"):
            lines.append(
                f"{db}: time per workload " + ", ".join(f"{w} {s:.0f} s" for w, s in took.items())
            )
    return lines


def terminal(report: dict[str, Any]) -> str:
    rows = [HEADERS] + [_cells(r) for r in report["results"]]
    widths = [min(max(len(row[i]) for row in rows), 48) for i in range(len(HEADERS))]
    out = [*_header_lines(report), ""]
    for n, row in enumerate(rows):
        out.append("  ".join(cell[: widths[i]].ljust(widths[i]) for i, cell in enumerate(row)))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown(report: dict[str, Any]) -> str:
    out = [f"# {_header_lines(report)[0]}", ""]
    out += [f"- {line}" for line in _header_lines(report)[1:]]
    out += [
        "",
        "Latencies are p50/p95/p99 in ms; ratio = ours ÷ raw SQL at p50 (for rates: raw SQL rate"
        " ÷ our rate); queries = SQL statements per request (ours/raw SQL); memory = peak Python"
        " allocation per request (W1, W2) or peak private RSS (W4, W7: the server; W8: ours).",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    for r in report["results"]:
        out.append("| " + " | ".join(c.replace("|", "/") for c in _cells(r)) + " |")
    notes = [r for r in report["results"] if r.get("note")]
    if notes:
        out += ["", "## Notes", ""]
        for r in notes:
            out.append(f"- {r['workload']} {r['db']} {r.get('case', '')}: {r['note']}")
    return "\n".join(out) + "\n"


def write(report: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    label = report["scale_label"] + ("-smoke" if report["smoke"] else "")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    body = json.dumps(report, ensure_ascii=False, indent=1, default=str)
    md = markdown(report)
    paths = []
    for name in (f"latest-{label}", f"{stamp}-{label}"):
        (out / f"{name}.json").write_text(body)
        (out / f"{name}.md").write_text(md)
        paths += [out / f"{name}.json", out / f"{name}.md"]
    return paths
