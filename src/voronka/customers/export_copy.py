"""The contact export's CSV written by PostgreSQL itself (``COPY (SELECT …) TO STDOUT``).

``write_csv`` turns typed cells into text row by row in Python, about 20 µs a row. Here the
database renders every cell with the same rules and Python only passes the lines on, so an
export runs at the speed of the query (W8). The output must be the same bytes, so each rule of
``escape_cell``/``_csv_text``/``custom_text`` is mirrored in SQL:

- text: a leading ``'`` before ``= + - @``, tab or CR; an empty text becomes NULL, because
  COPY writes NULL as nothing and ``''`` as ``""`` while Python's csv writes ``""`` as nothing;
- e-mails and phones: joined with ", " in id order; tags: by name in code point order
  (``COLLATE "C"``, which is how Python's ``sorted`` compares);
- yes/no: the translated words, passed in; birthday: ``YYYY-MM-DD``;
- created: the wall clock in the user's time zone, ``YYYY-MM-DD HH:MM:SS`` and ``.ffffff``
  only when there are microseconds (``datetime.isoformat``);
- owner: ``str(user)``: "first last" stripped of Python's whitespace, else the username;
- custom fields: as ``custom_text`` sees each JSON kind. Values Python would print in a way
  SQL cannot (a list in a field that is not multi-select, an object, numbers such as 1e-05 or
  0.30000000000000004, options that are not text) send the whole export down the row-by-row
  path instead.

PostgreSQL ends lines with ``\\n``; each COPY row arrives on its own, so its last byte is
replaced by ``\\r\\n`` (a line break inside a quoted cell is kept, as Python keeps it).
tests/customers/test_export_copy.py compares both paths byte for byte."""

# ruff: noqa: S608, S611 - table, column and alias names are our constants; values are parameters

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from voronka.accounts.models import User
from voronka.core.models import CustomField, CustomFieldType
from voronka.customers.models import Company, Contact, ContactEmail, ContactPhone, Tag
from voronka.customers.selectors import CONTACT_SPEC, ListQuery, filtered_queryset

T = CustomFieldType
# What str.strip() removes (User.get_full_name strips the joined name): every character whose
# isspace() is true (tests/customers/test_export_paths.py checks the list).
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
BASE = f'"{Contact._meta.db_table}"'
FROM_BASE = f" FROM {BASE}"


def _col(name: str) -> str:
    return f'{BASE}."{name}"'


def _text(expr: str) -> str:
    """escape_cell on text: formula starts get a leading quote; empty text is written empty."""
    return (
        f"NULLIF(CASE WHEN left({expr}, 1) IN ('=', '+', '-', '@', chr(9), chr(13))"
        f" THEN '''' || {expr} ELSE {expr} END, '')"
    )


# Placeholders for the translated words among a cell's parameters.
YES, NO = object(), object()


def _yes_no(condition: str) -> tuple[str, list[Any]]:
    return f"CASE WHEN {condition} THEN %s ELSE %s END", [YES, NO]


def _json(field: CustomField) -> str:
    return f"({_col('custom')} -> %s)"


def _keyed(sql: str, field: CustomField) -> list[Any]:
    """Parameters of a condition whose only placeholders are the field's key."""
    return [field.key] * sql.count("%s")


def _custom_cell(field: CustomField) -> tuple[str, list[Any]]:
    """``custom_text(field, custom.get(key))`` as the CSV cell, by the JSON value's kind."""
    j = _json(field)
    raw = f"({j} #>> '{{}}')"
    k = field.key
    if field.type == T.BOOLEAN:
        # yes_no(value): Python truthiness of whatever is stored; nothing and [] are empty.
        sql = (
            f"CASE jsonb_typeof({j})"
            f" WHEN 'boolean' THEN CASE WHEN ({j})::boolean THEN %s ELSE %s END"
            f" WHEN 'string' THEN CASE WHEN {raw} <> '' THEN %s ELSE %s END"
            f" WHEN 'number' THEN CASE WHEN ({j})::numeric <> 0 THEN %s ELSE %s END"
            f" WHEN 'array' THEN CASE WHEN jsonb_array_length({j}) = 0 THEN NULL ELSE %s END"
            f" WHEN 'object' THEN CASE WHEN {j} = '{{}}'::jsonb THEN %s ELSE %s END END"
        )
        return sql, [k, k, YES, NO, k, YES, NO, k, YES, NO, k, YES, k, NO, YES]
    joined = (
        "(SELECT string_agg(a.x, ', ' ORDER BY a.o)"
        f" FROM jsonb_array_elements_text({j}) WITH ORDINALITY AS a(x, o))"
    )
    multi = field.type == T.MULTI_SELECT
    # Text is escaped like any text; numbers print as they are; a JSON true/false in any
    # field is yes/no; [] is empty; a multi-select's options are joined with ", ".
    sql = (
        f"CASE jsonb_typeof({j})"
        f" WHEN 'string' THEN {_text(raw)}"
        f" WHEN 'number' THEN {raw}"
        f" WHEN 'boolean' THEN CASE WHEN ({j})::boolean THEN %s ELSE %s END"
        f" WHEN 'array' THEN {_text(joined) if multi else 'NULL'} END"
    )
    params: list[Any] = [k, k, k, k, k, k, YES, NO] + ([k, k, k] if multi else [])
    return sql, params


def _odd_values(fields: list[CustomField]) -> tuple[str, list[Any]] | None:
    """A condition true for a contact holding a custom value that SQL would print otherwise
    than Python (see the module's docstring); such an export takes the row-by-row path."""
    conditions: list[str] = []
    params: list[Any] = []
    for field in fields:
        if field.type == T.BOOLEAN:
            continue  # every JSON kind is rendered exactly (truthiness)
        j = _json(field)
        raw = f"({j} #>> '{{}}')"
        # A number prints as PostgreSQL's literal. Python reads that literal too: a whole
        # number as an int (the same text), a decimal as a float printed by repr(), which is
        # the same text only for plain decimals of at most 15 digits from 1e-4 up to 1e16.
        odd = [
            f"(jsonb_typeof({j}) = 'number' AND strpos({raw}, '.') > 0"
            f" AND ({raw} !~ '^-?[0-9]+[.]([0-9]*[1-9]|0)$'"
            f" OR length(ltrim(translate({raw}, '-.', ''), '0')) > 15"
            f" OR abs(({j})::numeric) >= 1e16"
            f" OR (({j})::numeric <> 0 AND abs(({j})::numeric) < 0.0001)))",
            # Python would print a list or a dict as its repr.
            f"(jsonb_typeof({j}) = 'object' OR (jsonb_typeof({j}) = 'array'"
            + (
                f" AND EXISTS (SELECT 1 FROM jsonb_array_elements({j}) AS e(v)"
                " WHERE jsonb_typeof(e.v) <> 'string')))"
                if field.type == T.MULTI_SELECT
                else f" AND {j} <> '[]'::jsonb))"
            ),
        ]
        for condition in odd:
            conditions.append(condition)
            params += _keyed(condition, field)
    if not conditions:
        return None
    return "(" + " OR ".join(conditions) + ")", params


def _zone_known(name: str) -> bool:
    """PostgreSQL knows this time zone (checked in a savepoint: an error must not abort the
    caller's transaction)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT now() AT TIME ZONE %s", [name])
    except DatabaseError:
        return False
    return True


def contact_copy_lines(
    user: Any, query: ListQuery, fields: list[CustomField], *, yes: str, no: str, zone: Any
) -> Iterator[bytes] | None:
    """The export's CSV lines from COPY, or None where COPY cannot give the same bytes.

    ``fields`` are the contact custom fields whose columns follow the fixed ones."""
    zone_name = getattr(zone, "key", None)
    if connection.vendor != "postgresql" or not zone_name or not _zone_known(zone_name):
        return None
    qs = filtered_queryset(CONTACT_SPEC, user, query).order_by(
        *[f"-{k.name}" if k.descending else k.name for k in query.sort]
    )
    odd = _odd_values(fields)
    if odd is not None:
        flagged = qs.alias(vk_odd=RawSQL(odd[0], odd[1], output_field=BooleanField()))
        if flagged.filter(vk_odd=True).exists():
            return None

    created = f"({_col('created_at')} AT TIME ZONE %s)"
    owner_name = "btrim(vk_u.first_name || ' ' || vk_u.last_name, %s)"
    cells: list[tuple[str, list[Any]]] = [
        (_col("id"), []),
        (_text(_col("last_name")), []),
        (_text(_col("first_name")), []),
        (_text(_col("middle_name")), []),
        (_text("vk_co.name"), []),
        (_text(_col("position")), []),
        (_text("vk_e.s"), []),
        (_text("vk_p.s"), []),
        (f"to_char({_col('birthday')}, 'YYYY-MM-DD')", []),
        (
            _text(f"COALESCE(NULLIF({owner_name}, ''), vk_u.username)"),
            [PY_WHITESPACE] * 3,
        ),
        (_text(_col("source")), []),
        (_text("vk_t.s"), []),
        _yes_no(_col("email_consent")),
        _yes_no(_col("sms_consent")),
        (
            f"to_char({created}, 'YYYY-MM-DD HH24:MI:SS') || CASE WHEN"
            f" date_trunc('second', {created}) = {created} THEN '' ELSE to_char({created}, '.US')"
            " END",
            [zone_name] * 4,
        ),
    ]
    cells += [_custom_cell(field) for field in fields]
    names = [f"vk_cell{i}" for i in range(len(cells))]
    qs = qs.annotate(
        **{
            name: RawSQL(sql, [yes if p is YES else no if p is NO else p for p in params])
            for name, (sql, params) in zip(names, cells, strict=True)
        }
    ).values_list(*names)
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    at = sql.find(FROM_BASE + " ")
    if at < 0 or sql.find(FROM_BASE) != at or sql.count("(", 0, at) != sql.count(")", 0, at):
        return None  # not the top-level FROM the joins go after: keep to the safe path
    # Children are aggregated per contact and hash-joined (one pass over each table, about
    # twice as fast as a subquery per row); a filtered export aggregates only its own rows.
    # NOT MATERIALIZED: each use of the filter is planned with the filter's own row estimate;
    # a materialized CTE is estimated at 200 rows, and the index loops chosen for that made a
    # rep's export of 200,000 contacts 1.6× slower.
    ids = filtered_queryset(CONTACT_SPEC, user, query).order_by().values("id")
    with_ids, restrict, ids_params = "", "", []
    if ids.query.where:
        ids_sql, ids_params = ids.query.get_compiler(using=ids.db).as_sql()
        with_ids, restrict = (
            f"WITH vk_f AS NOT MATERIALIZED ({ids_sql}) ",
            " WHERE x.contact_id IN (SELECT id FROM vk_f)",
        )
    joins = (
        f' LEFT JOIN "{Company._meta.db_table}" vk_co ON vk_co.id = {_col("company_id")}'
        f' LEFT JOIN "{User._meta.db_table}" vk_u ON vk_u.id = {_col("owner_id")}'
        " LEFT JOIN (SELECT x.contact_id, string_agg(x.email, ', ' ORDER BY x.id) AS s"
        f' FROM "{ContactEmail._meta.db_table}" x{restrict} GROUP BY x.contact_id) vk_e'
        f" ON vk_e.contact_id = {_col('id')}"
        " LEFT JOIN (SELECT x.contact_id, string_agg(x.phone, ', ' ORDER BY x.id) AS s"
        f' FROM "{ContactPhone._meta.db_table}" x{restrict} GROUP BY x.contact_id) vk_p'
        f" ON vk_p.contact_id = {_col('id')}"
        " LEFT JOIN (SELECT x.contact_id, string_agg(t.name, ', ' ORDER BY t.name COLLATE \"C\")"
        f' AS s FROM "{Contact.tags.through._meta.db_table}" x'
        f' JOIN "{Tag._meta.db_table}" t ON t.id = x.tag_id{restrict} GROUP BY x.contact_id) vk_t'
        f" ON vk_t.contact_id = {_col('id')}"
    )
    end = at + len(FROM_BASE)
    select = f"{with_ids}{sql[:end]}{joins}{sql[end:]}"
    return _copy(f"COPY ({select}) TO STDOUT WITH (FORMAT csv)", [*ids_params, *params])


def _copy(statement: str, params: Any) -> Iterator[bytes]:
    with connection.cursor() as cursor:
        # COPY takes no bound parameters: the client-side cursor merges them (as it does for
        # every query Django sends), and Django's wrapper logs the statement like any other.
        merged = cursor.cursor.mogrify(statement, params)
        with cursor.copy(merged) as copy:
            for row in copy:
                line = bytes(row)
                yield line[:-1] + b"\r\n"
