"""Voronka's benchmark harness (``voronka bench``, ``make bench``).

Each main workload is timed on a generated dataset of a chosen scale, on SQLite and PostgreSQL,
next to hand-written SQL doing the same work on the same data. See bench/README.md."""

from __future__ import annotations

SCALES = {"2k": 2_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}


def parse_scale(text: str) -> int:
    """'10k', '100k', '1m' or a plain number of contacts."""
    raw = text.strip().lower().replace("_", "")
    if raw in SCALES:
        return SCALES[raw]
    multiplier = 1
    if raw.endswith("k"):
        multiplier, raw = 1_000, raw[:-1]
    elif raw.endswith("m"):
        multiplier, raw = 1_000_000, raw[:-1]
    try:
        value = int(float(raw) * multiplier)
    except ValueError as exc:
        raise ValueError(f"scale must be like 10k, 100k, 1m or a number, not {text!r}") from exc
    if value < 100:
        raise ValueError("scale must be at least 100 contacts")
    return value


def scale_label(value: int) -> str:
    if value % 1_000_000 == 0:
        return f"{value // 1_000_000}m"
    if value % 1_000 == 0:
        return f"{value // 1_000}k"
    return str(value)
