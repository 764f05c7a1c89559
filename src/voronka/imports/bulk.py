"""Bulk writes inside the caller's transaction: COPY on PostgreSQL, executemany on SQLite.

The importer writes the very rows the services would (same columns, same normalized values,
same audit entries and events) but a chunk at a time: ids are reserved up front so children
(phones, e-mails, tags, audit, events) can point at their contact in the same pass."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence, Sized
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction

from voronka.core.events import json_safe

MAX_PARAMS = 900  # SQLite's variable limit was 999 before 3.32; stay under it everywhere


class Writer:
    """The database driver's cursor, used only inside ``transaction.atomic``."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.postgres = connection.vendor == "postgresql"
        self.raw: Any = connection.connection
        self.fk_checks = True

    def now(self, moment: dt.datetime) -> Any:
        """A timestamp as this driver takes it for a DateTimeField column.

        On PostgreSQL the ISO text (with its offset): COPY sends text either way, and
        formatting one string per chunk instead of a datetime in every row saves a third of
        the client's COPY work for a contact row."""
        if self.postgres:
            return moment.isoformat()
        return connection.ops.adapt_datetimefield_value(moment)

    def flag(self, value: bool) -> Any:
        return value if self.postgres else int(value)

    def json(self, value: Any) -> str:
        """JSON text as ``json_safe`` would make it (dates as ISO), without walking the value."""
        return _ENCODER.encode(value)

    def begin_chunk(self) -> None:
        """Per-transaction settings of a chunk on PostgreSQL.

        synchronous_commit off: a chunk commits with its checkpoint, so a commit lost in a
        server crash loses both, and the rerun writes that chunk again: exact either way.

        Foreign keys: PostgreSQL checks each new row's references one by one at commit (half
        the cost of a chunk). Where the database role may (a superuser, or PostgreSQL 15+ with
        ``GRANT SET ON PARAMETER session_replication_role``), this transaction skips those
        per-row checks and the importer instead locks every referenced row once per chunk
        (:meth:`lock_parents`: FOR KEY SHARE, what each check would have done), so a parent
        cannot vanish before the commit. Otherwise the database checks as usual."""
        self.fk_checks = True
        if not self.postgres:
            return
        with self.raw.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit = off")
        try:
            with transaction.atomic(), self.raw.cursor() as cur:
                cur.execute("SET LOCAL session_replication_role = replica")
        except DatabaseError:
            return
        self.fk_checks = False

    def lock_parents(self, table: str, ids: Iterable[int | None]) -> None:
        """Hold the rows that new rows point at until commit (when FK checks are skipped)."""
        wanted = sorted({pk for pk in ids if pk is not None})
        if self.fk_checks or not wanted:
            return
        with self.raw.cursor() as cur:
            cur.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) FOR KEY SHARE", [wanted])  # noqa: S608
            found = {row[0] for row in cur.fetchall()}
        if len(found) != len(wanted):
            missing = sorted(set(wanted) - found)[:5]
            raise IntegrityError(f"{table}: rows {missing} are gone")

    def insert_searchable(self, table: str, columns: Sequence[str],
                          rows: Iterable[Sequence[Any]], ids: Sequence[int]) -> None:  # fmt: skip
        """Insert rows of a table with a search index (contacts, companies).

        On SQLite the FTS5 index is fed by a trigger per row, ten times slower than one
        INSERT … SELECT over the chunk; the trigger is dropped and put back inside this
        transaction (holding the write lock, so no other writer misses it)."""
        if self.postgres or not ids or not self._has_fts(table):
            self.insert(table, columns, rows)
            return
        from voronka.customers import search_index

        cur = self.raw.cursor()
        try:
            cur.execute(f"DROP TRIGGER IF EXISTS {table}_fts_ai")
            self.insert(table, columns, rows)
            cur.execute(
                f"INSERT INTO {table}_fts(rowid, search_text) SELECT id, search_text"  # noqa: S608
                f" FROM {table} WHERE id BETWEEN ? AND ?",
                [min(ids), max(ids)],
            )
            for statement in search_index._sqlite_statements(table):
                if "_fts_ai" in statement:
                    cur.execute(statement)
        finally:
            cur.close()

    def _has_fts(self, table: str) -> bool:
        cur = self.raw.cursor()
        try:
            cur.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                [f"{table}_fts_ai"],
            )
            return bool(cur.fetchone()[0])
        finally:
            cur.close()

    def reserve_ids(self, table: str, count: int) -> list[int]:
        """``count`` fresh primary keys of ``table`` (a sequence on PostgreSQL; on SQLite the
        write lock is held by the IMMEDIATE transaction, so max + 1 … is ours)."""
        if count <= 0:
            return []
        if self.postgres:
            with self.raw.cursor() as cur:
                # Consecutive values unless another session took some meanwhile: then (only
                # then) the list itself is sent, so the usual chunk reads two numbers.
                cur.execute(
                    "SELECT min(id), max(id), CASE WHEN max(id) - min(id) + 1 = count(*)"
                    " THEN NULL ELSE array_agg(id ORDER BY id) END"
                    " FROM (SELECT nextval(pg_get_serial_sequence(%s, 'id')) AS id"
                    " FROM generate_series(1, %s)) ids",
                    [table, count],
                )
                low, high, spread = cur.fetchone()
                return list(spread) if spread is not None else list(range(low, high + 1))
        cur = self.raw.cursor()
        try:
            cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608
            top = int(cur.fetchone()[0])
            cur.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", [table])
            row = cur.fetchone()
            if row is not None:
                top = max(top, int(row[0]))
        finally:
            cur.close()
        return list(range(top + 1, top + 1 + count))

    def fetch_in(self, sql: str, values: Sequence[Any], params: Sequence[Any] = ()) -> list[Any]:
        """Rows of ``sql`` whose ``{in}`` (written as ``column {in}``) is one of ``values``.

        One statement with an array on PostgreSQL; batches of IN lists on SQLite. ``params``
        come before the values in the statement."""
        if not values:
            return []
        if self.postgres:
            with self.raw.cursor() as cur:
                cur.execute(*_any(sql, params, values))
                return list(cur.fetchall())
        rows: list[Any] = []
        cur = self.raw.cursor()
        try:
            for batch in batches(values):
                marks = ", ".join("?" for _v in batch)
                query = sql.replace("%s", "?").format(**{"in": f"IN ({marks})"})
                cur.execute(query, [*params, *batch])
                rows += cur.fetchall()
        finally:
            cur.close()
        return rows

    def owner_filter(self, owners: set[int] | None, column: str) -> tuple[str, list[Any]]:
        """An SQL condition limiting ``column`` to the owners the importer sees."""
        if owners is None:
            return "", []
        if self.postgres:
            return f" AND {column} = ANY(%s)", [sorted(owners)]
        marks = ", ".join("%s" for _o in owners)
        return f" AND {column} IN ({marks})", sorted(owners)

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """``rows`` may be a generator: on PostgreSQL each row is sent as it comes, so the
        database works on the first rows while the caller makes the rest."""
        if isinstance(rows, Sized) and not len(rows):
            return
        cols = ", ".join(columns)
        if self.postgres:
            with self.raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" for _c in columns)
        self.raw.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)  # noqa: S608


def _any(sql: str, params: Sequence[Any], values: Sequence[Any]) -> tuple[str, list[Any]]:
    """``column {in}`` as ``= ANY(…)`` with its parameters (PostgreSQL).

    Texts go as one string split by the server: psycopg turns a list into an array literal
    element by element in Python (a few µs each, thousands of keys a chunk), while a join is
    one C call. Texts with a line break, or an empty one (which the split would lose), go as
    an array."""
    if all(type(v) is str for v in values):
        joined = "\n".join(values)
        if joined.count("\n") == len(values) - 1 and all(values):
            return sql.format(**{"in": "= ANY(string_to_array(%s, E'\\n'))"}), [*params, joined]
    return sql.format(**{"in": "= ANY(%s)"}), [*params, list(values)]


def _json_default(value: Any) -> Any:
    return json_safe(value)


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_json_default)


def batches(values: Sequence[Any], size: int = MAX_PARAMS) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def to_ranges(ids: Iterable[int]) -> list[list[int]]:
    """[1, 2, 3, 7] → [[1, 3], [7, 7]]: a chunk's created ids, compactly."""
    ranges: list[list[int]] = []
    for pk in sorted(ids):
        if ranges and pk == ranges[-1][1] + 1:
            ranges[-1][1] = pk
        else:
            ranges.append([pk, pk])
    return ranges


def from_ranges(ranges: Iterable[Sequence[int]]) -> list[int]:
    return [pk for low, high in ranges for pk in range(int(low), int(high) + 1)]


AUDIT_COLUMNS = ("content_type_id", "object_id", "action", "changes", "actor_id", "channel",
                 "created_at")  # fmt: skip
OUTBOX_COLUMNS = ("name", "entity", "entity_id", "payload", "actor_id", "channel", "created_at")
