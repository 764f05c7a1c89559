"""Importers that write through the per-record services: leads, deals, products.

These are not the million-row path contacts are, so each row goes through the very service a
form or the API calls (``lead_create``, ``deal_update``, ``product_create``…) with the
channel "import": the same cleaning, checks, assignment, audit entries and events, with no
second copy of the rules here. Each row runs in a savepoint of the chunk's transaction, so a
row the service refuses is rejected with the service's reason and the rest of the chunk goes
on; the chunk still commits with its checkpoint in one transaction (imports.runner).

A dry run calls the same services inside a transaction it rolls back: what it counts is what
the import would do, including the services' own refusals, and nothing stays written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from voronka.core.errors import ServiceValidationError
from voronka.core.events import json_safe
from voronka.core.models import Channel
from voronka.imports.base import Importer
from voronka.imports.pipeline import Match, Outcome, find_match


@dataclass
class Row:
    """A row read for a service: the data it gives, what a new record also gets, the keys
    that find its duplicate, and references left to look up per chunk (``refs``)."""

    row: int
    data: dict[str, Any] = field(default_factory=dict)  # from filled cells: create and update
    defaults: dict[str, Any] = field(default_factory=dict)  # only when creating (owner…)
    keys: list[str] = field(default_factory=list)
    refs: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was left out ("contact_not_found")
    owner_id: int | None = None

    def dedupe_keys(self) -> list[str]:
        return self.keys


class RecordImporter(Importer):
    """Rows → service calls. A subclass parses rows into :class:`Row` and says how a record
    is looked up, created, updated and restored."""

    model: Any = None
    deleted_event = ""
    # Field names in the service's errors → the target whose column to name.
    field_targets: dict[str, str] = {}
    # Whether rows of the chunk may find each other even when the importer could not see the
    # record (products have no owner: everyone sees the catalog).
    owned = True
    channel = Channel.IMPORT
    max_chunk_rows = 200  # ~10 queries a row: a chunk of a few seconds (imports.runner)

    def __init__(self, ctx: Any, mapping: list[str]) -> None:
        super().__init__(ctx, mapping)
        # Records this run created: a later row updating one needs no undo of its own, the
        # record goes as a whole.
        self.created_pks: set[int] = set()

    # --- what a kind provides ----------------------------------------------------------------

    def lookup(self, rows: list[Row]) -> dict[str, Match]:
        """Existing records the importer may see, by dedupe key: {key: ("db", id)}."""
        return {}

    def resolve(self, rows: list[Row]) -> None:
        """References of the chunk's rows looked up at once (contacts of deals…)."""

    def create(self, row: Row) -> int:
        raise NotImplementedError

    def update(self, pk: int, row: Row) -> dict[str, Any] | None:
        """Apply the row to the record; its changed fields as they were before (for undo)."""
        raise NotImplementedError

    @classmethod
    def restore(cls, user: Any, record: Any, changes: dict[str, Any]) -> None:
        """Put back what an import changed (undo), through the service."""
        raise NotImplementedError

    # --- shared --------------------------------------------------------------------------------

    def reason(self, exc: ServiceValidationError) -> str:
        """The service's errors, each naming the field as the file has it."""
        parts = []
        for error in exc.errors:
            name = error.field
            if name.startswith("custom.") and name[7:] in self.fields:
                label = str(self.fields[name[7:]].label)
            else:
                target = self.field_targets.get(name.split(".")[0], name.split(".")[0])
                label = self.label(target) if target in self.labels else name
            parts.append(f"{label}: {error.message}")
        return "; ".join(parts)

    def process(
        self, rows: list[tuple[int, list[str]]], parsed: list[Any] | None = None
    ) -> Outcome:
        out = Outcome()
        if parsed is None:
            parsed = self.parse_chunk(rows)
        items: list[tuple[Row, list[str]]] = []
        for (number, values), result in zip(rows, parsed, strict=True):
            if isinstance(result, str):
                out.reject(number, result, values)
            else:
                items.append((result, values))
        if not self.ctx.dry_run:
            self._write(items, out)
            return out
        with transaction.atomic():
            created, updated = self._write(items, out)
            transaction.set_rollback(True)
        # What later chunks must find as if these rows had been written.
        self.ctx.memory.update(key for row in created if self._sees(row) for key in row.keys)
        self.ctx.memory.update(key for row in updated for key in row.keys)
        return out

    def _sees(self, row: Row) -> bool:
        return not self.owned or self.ctx.sees_owner(row.owner_id)

    def _write(self, items: list[tuple[Row, list[str]]],
               out: Outcome) -> tuple[list[Row], list[Row]]:  # fmt: skip
        ctx = self.ctx
        rows = [row for row, _values in items]
        existing = self.lookup(rows) if ctx.dedupe != "create" else {}
        self.resolve(rows)
        local: dict[str, Match] = {}
        created: list[Row] = []
        updated: list[Row] = []
        for row, values in items:
            match = None
            if ctx.dedupe != "create":
                match = find_match(ctx, row.keys, local, existing)
            if match is not None and ctx.dedupe == "skip":
                out.skipped += 1
                continue
            try:
                pk, before = self._apply(row, match)
            except ServiceValidationError as exc:
                out.reject(row.row, self.reason(exc), values)
                continue
            out.notes.update(row.notes)
            if match is None:
                out.created += 1
                out.created_ids[self.entity].append(pk)
                self.created_pks.add(pk)
                created.append(row)
                if self._sees(row):
                    for key in row.keys:
                        local[key] = ("db", pk)
                continue
            out.updated += 1
            updated.append(row)
            if before and pk not in self.created_pks:
                out.updates.append((self.entity, pk, json_safe(before)))
            for key in row.keys:
                local.setdefault(key, match)
        return created, updated

    def _apply(self, row: Row, match: Match | None) -> tuple[int, dict[str, Any] | None]:
        """(id, fields as they were) of the record the row created or updated, in a savepoint
        that a refusal rolls back; a dry run's match of an unwritten record does nothing."""
        with transaction.atomic():
            if match is None:
                return self.create(row), None
            if match[0] == "db":
                return match[1], self.update(match[1], row)
        return 0, None

    @staticmethod
    def changed_before(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        """Of a snapshot taken before a change, the fields the change altered."""
        return {k: v for k, v in before.items() if after.get(k) != v}


__all__ = ["RecordImporter", "Row"]
