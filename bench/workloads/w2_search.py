"""W2: the global search box — a name fragment, an e-mail fragment, phone digits and a phone
typed the Russian way ("8 (916) 123-45-67").

Ours: ``contact_search(user, text)`` (the top 8 by name, with company, e-mails and phones).
Baseline: the same condition written by hand — FTS5 ``MATCH`` on SQLite, ``LIKE '%term%'``
over the trigram-indexed ``search_text`` on PostgreSQL — the same visibility filter and sort,
then the e-mails and phones of the rows found."""

from __future__ import annotations

from typing import Any

from bench.dataset import DatasetInfo
from bench.workloads.common import (
    RawSQL,
    Result,
    Settings,
    compare_ids,
    count_queries,
    fresh_user,
    peak_alloc_kb,
    percentiles,
    time_calls,
)
from bench.workloads.w1_list import search_sql
from voronka.core.text import digits, fold, normalize_phone
from voronka.customers.selectors import contact_search

TARGET = "p95 < 50 ms and ≤ 2× raw SQL"
LIMIT = 8


def search_terms(text: str) -> list[str]:
    """What a person typed, as the terms stored in search_text (phones as E.164 digits)."""
    raw_digits = digits(text)
    if len(raw_digits) >= 5 and not any(ch.isalpha() for ch in text):
        try:
            return [digits(normalize_phone(text))]
        except ValueError:
            return [raw_digits]
    return [t for t in fold(text).split(" ") if t]


def baseline_search(raw: RawSQL, user: Any, text: str) -> list[tuple[Any, ...]]:
    where: list[str] = []
    args: list[Any] = []
    for term in search_terms(text):
        condition, values = search_sql(raw, term)
        where.append(condition)
        args.extend(values)
    if user.visibility_scope != "all":
        owners = [user.pk]
        if user.visibility_scope == "team" and user.team_id:
            owners = [r[0] for r in raw.fetch(
                "SELECT id FROM accounts_user WHERE team_id = %s", [user.team_id]
            )] or owners  # fmt: skip
        where.insert(0, f"c.owner_id IN ({raw.marks(owners)})")
        args[:0] = owners
    rows = raw.fetch(
        "SELECT c.id, c.first_name, c.middle_name, c.last_name, c.position, c.company_id,"
        " co.name FROM customers_contact c LEFT JOIN customers_company co ON co.id = c.company_id"
        f" WHERE {' AND '.join(where)} ORDER BY c.last_name, c.first_name, c.id LIMIT {LIMIT}",
        args,
    )
    ids = [r[0] for r in rows]
    if ids:
        marks = raw.marks(ids)
        raw.fetch(
            f"SELECT contact_id, email FROM customers_contactemail WHERE contact_id IN ({marks})"
            " ORDER BY id",
            ids,
        )
        raw.fetch(
            f"SELECT contact_id, phone FROM customers_contactphone WHERE contact_id IN ({marks})"
            " ORDER BY id",
            ids,
        )
    return rows


def run(info: DatasetInfo, db: str, settings: Settings) -> list[Result]:
    raw = RawSQL()
    results: list[Result] = []
    queries = [
        ("name fragment", info.name_fragment),
        ("e-mail fragment", info.email_fragment),
        ("phone digits", info.phone_digits),
        ("phone typed 8 (9xx) xxx-xx-xx", info.phone_typed),
    ]
    for who, user_id in (("sales rep (team)", info.rep_id), ("administrator", info.admin_id)):
        user = fresh_user(user_id)
        for name, text in queries:

            def ours(text: str = text, user: Any = user) -> list[int]:
                user.__dict__.pop("_team_member_ids", None)
                return [c.pk for c in contact_search(user, text)]

            def baseline(text: str = text, user: Any = user) -> list[int]:
                return [r[0] for r in baseline_search(raw, user, text)]

            found = ours()
            compare_ids(f"W2 {name} {text!r} as {who} on {db}", found, baseline())
            ours_t = percentiles(time_calls(ours, settings))
            base_t = percentiles(time_calls(baseline, settings))
            raw.statements = 0
            baseline()
            result = Result(
                workload="W2", case=f"{name}: {text}", db=db, user=who, ours=ours_t,
                baseline=base_t, ratio=ours_t["p50"] / base_t["p50"] if base_t.get("p50") else None,
                queries=count_queries(ours), baseline_queries=raw.statements,
                peak_kb=peak_alloc_kb(ours), rows=len(found), target=TARGET, ids_match=True,
                note="" if found else "no match: the term should come from the dataset",
            )  # fmt: skip
            result.passed = ours_t["p95"] < 50 and (result.ratio or 0) <= 2
            results.append(result)
    return results
