"""W1: the contact list — filter, sort, one page of 50, and the keyset next page.

Ours: ``parse_list_query(CONTACT_SPEC, params, user)`` + ``contact_list(user, query)`` exactly
as the list view and ``GET /api/v1/contacts`` call them. Baseline: hand-written SQL returning
the same page (the row, its company name and owner, then its e-mails, phones and tags by id),
with the same visibility filter, filters and sort."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    visible_owner_ids,
)
from voronka.core.text import fold
from voronka.customers import search_index
from voronka.customers.selectors import CONTACT_SPEC, contact_list, parse_list_query

TARGET = "p95 < 50 ms and ≤ 2× raw SQL"
LIMIT = 50

MAIN_COLUMNS = (
    "c.id, c.first_name, c.middle_name, c.last_name, c.position, c.birthday, c.source,"
    " c.email_consent, c.sms_consent, c.custom, c.created_at, c.updated_at, c.company_id,"
    " c.owner_id, co.name, u.username, u.first_name, u.last_name"
)


@dataclass
class Case:
    name: str
    params: dict[str, str]
    where: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)
    next_page: bool = False


def search_sql(raw: RawSQL, text: str) -> tuple[str, list[Any]]:
    """The condition a hand-written query uses for a search term of three letters or more."""
    if raw.postgres:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return "c.search_text LIKE %s", [f"%{escaped}%"]
    return (
        "c.id IN (SELECT rowid FROM customers_contact_fts WHERE customers_contact_fts MATCH %s)",
        [search_index.fts_quote(text)],
    )


def cases(info: DatasetInfo, raw: RawSQL) -> list[Case]:
    by_name = [("c.last_name", False), ("c.first_name", False), ("c.id", False)]
    tag_exists = (
        "EXISTS (SELECT 1 FROM customers_contact_tags ct JOIN customers_tag t ON t.id = ct.tag_id"
        " WHERE ct.contact_id = c.id AND t.name_folded = %s)"
    )
    region = (
        "c.custom ->> 'region' = %s" if raw.postgres else "json_extract(c.custom, '$.region') = %s"
    )
    term = fold(info.name_fragment)
    search_where, search_args = search_sql(raw, term)
    return [
        Case("default sort (last name)", {}, order=by_name),
        Case("keyset next page", {}, order=by_name, next_page=True),
        Case(
            f"tag {info.tag}, newest first",
            {"tag": info.tag, "sort": "-created_at"},
            where=[tag_exists],
            args=[fold(info.tag)],
            order=[("c.created_at", True), ("c.id", True)],
        ),
        Case(
            "custom field + source filter",
            {"cf.region": info.region, "source": info.source},
            where=[region, "c.source = %s"],
            args=[info.region, info.source],
            order=by_name,
        ),
        Case(
            f"search in list q={term}",
            {"q": term},
            where=[search_where],
            args=search_args,
            order=by_name,
        ),
    ]


def baseline_page(
    raw: RawSQL,
    user: Any,
    case: Case,
    after: tuple[Any, ...] | None = None,
    limit: int = LIMIT,
) -> list[tuple[Any, ...]]:
    """One page by hand: visibility, filters, sort, then the children of the page's rows."""
    where = list(case.where)
    args = list(case.args)
    owners = visible_owner_ids(raw, user)
    if owners is not None:
        where.insert(0, f"c.owner_id IN ({raw.marks(owners)})")
        args[:0] = owners
    if after is not None:
        columns = ", ".join(col for col, _desc in case.order)
        op = "<" if case.order[0][1] else ">"
        where.append(f"({columns}) {op} ({raw.marks(after)})")
        args.extend(after)
    order = ", ".join(f"{col} DESC" if desc else col for col, desc in case.order)
    sql = (
        f"SELECT {MAIN_COLUMNS} FROM customers_contact c"
        " LEFT JOIN customers_company co ON co.id = c.company_id"
        " LEFT JOIN accounts_user u ON u.id = c.owner_id"
        f" WHERE {' AND '.join(where) if where else '1=1'} ORDER BY {order} LIMIT {limit + 1}"
    )
    rows = raw.fetch(sql, args)[:limit]
    ids = [r[0] for r in rows]
    if ids:
        marks = raw.marks(ids)
        raw.fetch(
            f"SELECT contact_id, email, kind FROM customers_contactemail"
            f" WHERE contact_id IN ({marks}) ORDER BY id",
            ids,
        )
        raw.fetch(
            f"SELECT contact_id, phone, kind FROM customers_contactphone"
            f" WHERE contact_id IN ({marks}) ORDER BY id",
            ids,
        )
        raw.fetch(
            "SELECT ct.contact_id, t.id, t.name, t.color FROM customers_contact_tags ct"
            f" JOIN customers_tag t ON t.id = ct.tag_id WHERE ct.contact_id IN ({marks})"
            " ORDER BY t.name_folded",
            ids,
        )
    return rows


def _sort_values(row: tuple[Any, ...], case: Case) -> tuple[Any, ...]:
    positions = {"c.last_name": 3, "c.first_name": 1, "c.id": 0, "c.created_at": 10}
    return tuple(row[positions[col]] for col, _desc in case.order)


def run(info: DatasetInfo, db: str, settings: Settings) -> list[Result]:
    raw = RawSQL()
    results: list[Result] = []
    for who, user_id in (("sales rep (team)", info.rep_id), ("administrator", info.admin_id)):
        user = fresh_user(user_id)
        for case in cases(info, raw):
            params = dict(case.params)
            after: tuple[Any, ...] | None = None
            if case.next_page:
                first = contact_list(user, parse_list_query(CONTACT_SPEC, params, user))
                params["cursor"] = first.next_cursor or ""
                first_rows = baseline_page(raw, user, case)
                after = _sort_values(first_rows[-1], case) if first_rows else None

            def ours(params: dict[str, str] = params, user: Any = user) -> list[int]:
                # A request starts with a fresh user: the team's member ids are looked up anew.
                user.__dict__.pop("_team_member_ids", None)
                page = contact_list(user, parse_list_query(CONTACT_SPEC, params, user))
                return [c.pk for c in page.items]

            def baseline(
                case: Case = case, after: tuple[Any, ...] | None = after, user: Any = user
            ) -> list[int]:
                return [r[0] for r in baseline_page(raw, user, case, after)]

            compare_ids(f"W1 {case.name} as {who} on {db}", ours(), baseline())
            ours_t = percentiles(time_calls(ours, settings))
            base_t = percentiles(time_calls(baseline, settings))
            raw.statements = 0
            baseline()
            result = Result(
                workload="W1", case=case.name, db=db, user=who, ours=ours_t, baseline=base_t,
                ratio=ours_t["p50"] / base_t["p50"] if base_t.get("p50") else None,
                queries=count_queries(ours), baseline_queries=raw.statements,
                peak_kb=peak_alloc_kb(ours), rows=len(ours()), target=TARGET, ids_match=True,
            )  # fmt: skip
            result.passed = ours_t["p95"] < 50 and (result.ratio or 0) <= 2
            results.append(result)
    return results
