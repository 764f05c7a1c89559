"""What every kind's chunk processor shares: the run's context, a chunk's outcome, the
history written in bulk, and how rows are matched against existing records (dedupe)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from voronka.core.models import Channel
from voronka.imports.bulk import AUDIT_COLUMNS, OUTBOX_COLUMNS, Writer
from voronka.imports.cleaning import Owners


@dataclass
class Context:
    """One run of a job (an import or its dry run), alive across its chunks."""

    actor: Any
    dedupe: str
    dry_run: bool
    default_owner_id: int | None
    visible_owners: set[int] | None  # None: the actor sees every record
    owners: Owners
    headers: list[str] = field(default_factory=list)  # of the file, to name columns in reasons
    job_id: int | None = None
    # Dry run only: keys (e-mails, phones, INNs) and company names that earlier chunks "wrote".
    memory: set[str] = field(default_factory=set)
    memory_companies: set[str] = field(default_factory=set)
    writer: Writer = field(default_factory=Writer)

    @property
    def actor_id(self) -> int | None:
        return getattr(self.actor, "pk", None)

    def sees_owner(self, owner_id: int | None) -> bool:
        return self.visible_owners is None or owner_id in self.visible_owners


@dataclass
class Outcome:
    """What a chunk did (or, in a dry run, would do)."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    companies_created: int = 0
    rejections: list[tuple[int, str, list[str]]] = field(default_factory=list)
    created_ids: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    updates: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)

    def reject(self, row: int, reason: str, values: list[str]) -> None:
        self.rejected += 1
        self.rejections.append((row, reason, values))


class History:
    """Audit entries and outbox events of a chunk, written with one bulk insert each."""

    def __init__(self, writer: Writer, actor_id: int | None) -> None:
        self.writer = writer
        self.actor_id = actor_id
        self.now = writer.now(timezone.now())
        self.audit: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self._types: dict[Any, int] = {}

    def content_type(self, model: Any) -> int:
        if model not in self._types:
            self._types[model] = ContentType.objects.get_for_model(model).pk
        return self._types[model]

    def add(self, model: Any, entity: str, event: str, action: str, pk: int,
            changes_json: str, payload_json: str | None = None) -> None:  # fmt: skip
        """``changes_json``/``payload_json``: JSON text, made once and shared when equal."""
        self.audit.append((self.content_type(model), pk, action, changes_json, self.actor_id,
                           Channel.IMPORT, self.now))  # fmt: skip
        self.events.append((event, entity, pk, payload_json or changes_json, self.actor_id,
                            Channel.IMPORT, self.now))  # fmt: skip

    def flush(self) -> None:
        self.writer.lock_parents("accounts_user", [self.actor_id])
        self.writer.lock_parents("django_content_type", self._types.values())
        self.writer.insert("core_auditentry", AUDIT_COLUMNS, self.audit)
        self.writer.insert("core_outboxevent", OUTBOX_COLUMNS, self.events)
        self.audit, self.events = [], []


Match = tuple[str, int]  # ("db", id) an existing record, ("new", index) a row of this chunk


def find_match(ctx: Context, keys: list[str], local: dict[str, Match],
               existing: dict[str, Match]) -> Match | None:  # fmt: skip
    """The record a row duplicates: one of this chunk, one in the database, or (dry run) one
    an earlier chunk would have written."""
    for key in keys:
        match = local.get(key) or existing.get(key)
        if match is None and key in ctx.memory:
            match = ("memory", 0)
        if match:
            return match
    return None


def plan_rows(ctx: Context, drafts: list[tuple[Any, list[str]]], existing: dict[str, Match],
              out: Outcome) -> tuple[list[tuple[Any, list[str]]], dict[int, list[Any]]]:  # fmt: skip
    """Split a chunk's drafts (with ``dedupe_keys()`` and ``merge()``) by the dedupe mode into
    records to create and updates of existing ones ({id: [drafts]}); skips are counted.

    A row repeating an earlier row of the chunk is merged into it (update) or skipped; keys of
    a record the importer may not see are not remembered, as the database lookup would not
    find that record either."""
    new: list[tuple[Any, list[str]]] = []
    updates: dict[int, list[Any]] = defaultdict(list)
    local: dict[str, Match] = {}
    # find_match inlined: this loop runs for every row of a million-row file.
    mode, memory, sees_all = ctx.dedupe, ctx.memory, ctx.visible_owners is None
    local_get, existing_get = local.get, existing.get
    for draft, values in drafts:
        keys = draft.dedupe_keys()
        match = None
        if mode != "create":
            for key in keys:
                match = local_get(key) or existing_get(key)
                if match is None and memory and key in memory:
                    match = ("memory", 0)
                if match:
                    break
        if match is None:
            new.append((draft, values))
            if sees_all or ctx.sees_owner(draft.owner_id):
                here = ("new", len(new) - 1)
                for key in keys:
                    local[key] = here
        elif mode == "skip":
            out.skipped += 1
        else:
            out.updated += 1
            kind, target = match
            if kind == "new":
                new[target][0].merge(draft)
            elif kind == "db":
                updates[target].append(draft)
            for key in keys:
                local.setdefault(key, match)
    return new, updates


def remember(ctx: Context, created: list[Any], updated: list[Any]) -> None:
    """Dry run: the keys later chunks must find as if these records had been written."""
    for draft in created:
        if ctx.sees_owner(draft.owner_id):
            ctx.memory.update(draft.dedupe_keys())
    for draft in updated:
        ctx.memory.update(draft.dedupe_keys())
