"""What every entity's chunk processor shares: the run's context and a chunk's outcome."""

from __future__ import annotations

from collections import defaultdict
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
