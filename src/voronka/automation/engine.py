"""The rule engine: which rules an event triggers, and running a rule's steps for a record.

Everything a run does to the database happens in the caller's transaction (the dispatcher's
or a periodic job's), together with the run and step rows. A redelivered event therefore
either finds its run (unique per rule and event) or finds nothing done at all.

The dispatcher hands the consumer whole batches (:func:`handle_events`): the rules, the runs
already made, the loop-protection counts and the records the conditions read are fetched once
for the batch, and the runs whose conditions do not hold are written in one INSERT. The result
is the same as :func:`handle_event` called for each event in order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, prefetch_related_objects
from django.utils import timezone

from voronka.automation import actions
from voronka.automation.conditions import evaluate
from voronka.automation.models import (
    EventOrigin,
    PendingStep,
    Rule,
    RuleRun,
    RunStatus,
    RunStep,
    StepStatus,
)
from voronka.automation.records import BY_EVENT_ENTITY, ENTITIES, load
from voronka.automation.schema import trigger_entity
from voronka.core.dispatch import batch_memo, bulk_insert, handles_batches
from voronka.core.models import Channel, OutboxEvent

MAX_DEPTH = 3
# Actions that only add rows of their own (a notification, a queued HTTP call): they change no
# record and publish no event, so after them the record needs no reload and no event needs
# marking as caused by automation.
OWN_ROWS_ONLY = frozenset({"notify", "webhook"})


def max_runs_per_hour() -> int:
    """How often one rule may run for one record in an hour: the brake on ping-pong loops."""
    return int(getattr(settings, "VORONKA_AUTOMATION_MAX_RUNS_PER_HOUR", 10))


# --- which rules an event triggers --------------------------------------------------------


def trigger_matches(trigger: dict[str, Any], event: OutboxEvent) -> bool:
    kind = trigger.get("type")
    spec = BY_EVENT_ENTITY.get(event.entity)
    entity = spec.key if spec else ""
    verb = event.name.rsplit(".", 1)[-1]
    if kind == "event":
        return event.name == trigger.get("event")
    if kind in {"deal_stage_changed", "deal_won", "deal_lost"}:
        wanted = {"deal_stage_changed": "deal.stage_changed", "deal_won": "deal.won",
                  "deal_lost": "deal.lost"}[kind]  # fmt: skip
        if event.name != wanted:
            return False
        stage_id = trigger.get("stage_id")
        return not stage_id or (event.payload or {}).get("to_stage_id") == stage_id
    if entity != trigger.get("entity"):
        return False
    if kind == "record_created":
        return verb == "created"
    if kind == "record_updated":
        return verb == "updated"
    if kind == "field_changed":
        return verb == "updated" and _field_changed(trigger, event.payload or {})
    return False


def _field_changed(trigger: dict[str, Any], payload: dict[str, Any]) -> bool:
    field = trigger.get("field", "")
    changed = payload.get("changed") or []
    top = field.split(".", 1)[0]
    stored = {"owner": "owner_id", "stage": "stage_id", "pipeline": "pipeline_id",
              "company": "company_id"}.get(top, top)  # fmt: skip
    if stored not in changed:
        return False
    if field.startswith("custom."):
        change = (payload.get("changes") or {}).get("custom")
        if isinstance(change, dict | list):
            before, after = _pair(change)
            key = field.removeprefix("custom.")
            if (before or {}).get(key) == (after or {}).get(key):
                return False
    return True


def _pair(change: Any) -> tuple[Any, Any]:
    if isinstance(change, list | tuple) and len(change) == 2:
        return change[0], change[1]
    if isinstance(change, dict):
        return change.get("from", change.get("old")), change.get("to", change.get("new"))
    return None, change


def event_depth(event: OutboxEvent) -> int:
    """0 for a person's change; the causing run's depth for a change automation made."""
    if event.channel != Channel.AUTOMATION:
        return 0
    origin = EventOrigin.objects.filter(event_id=event.pk).first()
    return origin.depth if origin else MAX_DEPTH


def _active_rules() -> list[Rule]:
    """Rules that events may trigger, read once per dispatcher batch."""
    return batch_memo(
        "automation.rules",
        lambda: list(
            Rule.objects.filter(active=True).exclude(trigger__type__in=["date", "schedule"])
        ),
    )


def handle_event(event: OutboxEvent) -> int:
    """The "automation.rules" consumer: run every active rule the event triggers. Returns the
    number of runs started (skipped ones included). Runs inside the dispatcher's transaction."""
    runs = 0
    matching = [r for r in _active_rules() if trigger_matches(r.trigger, event)]
    if not matching:
        return 0
    depth = event_depth(event) + 1
    for rule in matching:
        entity = trigger_entity(rule.trigger)
        record_id = event.entity_id if entity else None
        if start_run(rule, entity=entity, record_id=record_id, event=event, depth=depth):
            runs += 1
    return runs


def handle_events(events: list[OutboxEvent]) -> int:
    """:func:`handle_event` for a whole batch, in order, with the reads done once."""
    rules = _active_rules()
    if not rules:
        return 0
    todo = [(e, [r for r in rules if trigger_matches(r.trigger, e)]) for e in events]
    todo = [(event, matching) for event, matching in todo if matching]
    if not todo:
        return 0
    batch = _Batch(todo)
    runs = 0
    for event, matching in todo:
        depth = batch.depth(event) + 1
        for rule in matching:
            entity = trigger_entity(rule.trigger)
            record_id = event.entity_id if entity else None
            if batch.start_run(rule, entity=entity, record_id=record_id, event=event, depth=depth):
                runs += 1
    batch.flush()
    return runs


def _condition_fields(tree: dict[str, Any] | None) -> set[str]:
    if not tree:
        return set()
    if "items" in tree:
        return set().union(*(_condition_fields(item) for item in tree["items"] or []))
    return {str(tree.get("field", ""))}


def _related(entity: str, fields: set[str]) -> tuple[list[str], list[str]]:
    """What to join or prefetch so that reading ``fields`` costs no query per record."""
    joins: list[str] = []
    prefetch: list[str] = []
    if "team" in fields:
        joins.append("owner")
    if "stage_kind" in fields and entity == "deal":
        joins.append("stage")
    if "company" in fields and entity == "contact":
        joins.append("company")
    if "tags" in fields and ENTITIES[entity].has_tags:
        prefetch.append("tags")
    if entity == "contact":
        prefetch += [name for name in ("emails", "phones") if name.rstrip("s") in fields]
    return joins, prefetch


class _Batch:
    """What :func:`start_run` reads, fetched once for the events of one dispatcher batch."""

    def __init__(self, todo: list[tuple[OutboxEvent, list[Rule]]]) -> None:
        self.now = timezone.now()
        event_ids = [event.pk for event, _rules in todo]
        rule_ids = {rule.pk for _event, rules in todo for rule in rules}
        self.existing = set(
            RuleRun.objects.filter(event_id__in=event_ids, rule_id__in=rule_ids).values_list(
                "rule_id", "event_id"
            )
        )
        automated = [event.pk for event, _rules in todo if event.channel == Channel.AUTOMATION]
        self.origins = dict(
            EventOrigin.objects.filter(event_id__in=automated).values_list("event_id", "depth")
            if automated
            else []
        )
        # Which records of which kind the batch is about, and the condition fields read.
        self.wanted: dict[str, set[int]] = {}
        self.fields: dict[str, set[str]] = {}
        for event, rules in todo:
            for rule in rules:
                entity = trigger_entity(rule.trigger)
                if entity and event.entity_id:
                    self.wanted.setdefault(entity, set()).add(event.entity_id)
                    fields = self.fields.setdefault(entity, set())
                    fields.update(_condition_fields(rule.conditions))
        self.records: dict[str, dict[int, Any]] = {}
        self.stale = False  # an action changed records: load each one fresh from now on
        self.snapshot_ready: set[str] = set()
        self.recent = self._recent_runs(rule_ids)
        self.skipped: list[RuleRun] = []
        self.started: dict[int, int] = {}

    def _recent_runs(self, rule_ids: set[int]) -> dict[tuple[int, str, int], int]:
        """Runs in the last hour per rule and record: the rate limit of :func:`_too_many`."""
        record_ids = set().union(*self.wanted.values()) if self.wanted else set()
        if not record_ids:
            return {}
        rows = (
            RuleRun.objects.filter(
                rule_id__in=rule_ids,
                entity__in=sorted(self.wanted),
                record_id__in=record_ids,
                started_at__gte=self.now - dt.timedelta(hours=1),
                test=False,
            )
            .exclude(status=RunStatus.SKIPPED)
            .values_list("rule_id", "entity", "record_id")
            .annotate(n=Count("id"))
        )
        return {(rule_id, entity, record_id): n for rule_id, entity, record_id, n in rows}

    def depth(self, event: OutboxEvent) -> int:
        if event.channel != Channel.AUTOMATION:
            return 0
        return self.origins.get(event.pk, MAX_DEPTH)

    def record(self, entity: str, record_id: int | None) -> Any:
        if self.stale or not record_id:
            return load(entity, record_id)
        if entity not in self.records:
            spec = ENTITIES.get(entity)
            if spec is None:
                return None
            joins, prefetch = _related(entity, self.fields.get(entity, set()))
            qs = spec.model().objects.filter(pk__in=sorted(self.wanted.get(entity, ())))
            if joins:
                qs = qs.select_related(*joins)
            if prefetch:
                qs = qs.prefetch_related(*prefetch)
            self.records[entity] = {obj.pk: obj for obj in qs}
        return self.records[entity].get(record_id)

    def skip(self, run: RuleRun, reason: str) -> RuleRun:
        run.status = RunStatus.SKIPPED
        run.reason = reason[:255]
        self.skipped.append(run)
        return run

    def start_run(
        self, rule: Rule, *, entity: str, record_id: int | None, event: OutboxEvent, depth: int
    ) -> RuleRun | None:
        """:func:`start_run` with the batch's reads; skipped runs are written later, at once."""
        if (rule.pk, event.pk) in self.existing:
            return None
        self.existing.add((rule.pk, event.pk))
        self.started[rule.pk] = self.started.get(rule.pk, 0) + 1
        run = RuleRun(rule=rule, entity=entity, record_id=record_id, event_id=event.pk, depth=depth)
        if depth > MAX_DEPTH:
            return self.skip(run, "loop protection: caused by automation too deep")
        key = (rule.pk, entity, record_id or 0)
        if record_id and self.recent.get(key, 0) >= max_runs_per_hour():
            return self.skip(run, "loop protection: too many runs for this record this hour")
        record = self.record(entity, record_id) if entity else None
        if entity and record is None:
            return self.skip(run, "the record no longer exists")
        payload = dict(event.payload or {})
        if not evaluate(rule.conditions, entity, record, payload):
            return self.skip(run, "conditions not met")
        # The run does something: write what is pending first, so run ids keep event order.
        self.flush_skipped()
        run.save()
        if record_id:
            self.recent[key] = self.recent.get(key, 0) + 1
        if any(a.get("type") not in OWN_ROWS_ONLY for a in rule.actions):
            self.stale = True
        elif record is not None:
            self.prefetch_snapshots(entity)
        execute(run, rule, record, start=0, payload=payload)
        return run

    def prefetch_snapshots(self, entity: str) -> None:
        """Before the first run that renders records, fetch for all of the batch's records
        what a snapshot reads beyond the row (tags, e-mails, phones, stage, company)."""
        if entity in self.snapshot_ready or entity not in self.records:
            return
        self.snapshot_ready.add(entity)
        # What records.field_value reads beyond the row, per kind of record.
        lookups = ["tags"] if ENTITIES[entity].has_tags else []
        lookups += {"contact": ["emails", "phones", "company"], "deal": ["stage"]}.get(entity, [])
        records = list(self.records[entity].values())
        if records and lookups:
            prefetch_related_objects(records, *lookups)

    def flush_skipped(self) -> None:
        if self.skipped:
            now = timezone.now()
            for run in self.skipped:
                run.finished_at = now
            bulk_insert(self.skipped)
            self.skipped = []

    def flush(self) -> None:
        self.flush_skipped()
        for rule_id, n in self.started.items():
            Rule.objects.filter(pk=rule_id).update(
                runs_total=F("runs_total") + n, last_run_at=timezone.now()
            )


@handles_batches(handle_events)
def consume(event: OutboxEvent) -> None:
    """The dispatcher's handler (contract 1 wants no return value)."""
    handle_event(event)


# --- running a rule ------------------------------------------------------------------------


def _finish(run: RuleRun, status: str, reason: str = "") -> None:
    run.status = status
    run.reason = reason[:255]
    run.finished_at = timezone.now() if status != RunStatus.WAITING else None
    run.save(update_fields=["status", "reason", "finished_at"])
    if status == RunStatus.FAILED and not run.test:
        Rule.objects.filter(pk=run.rule_id).update(runs_failed=F("runs_failed") + 1)


def _too_many(run: RuleRun) -> bool:
    rule, entity, record_id = run.rule, run.entity, run.record_id
    if not record_id:
        return False
    since = timezone.now() - dt.timedelta(hours=1)
    recent = (
        RuleRun.objects.filter(
            rule=rule, entity=entity, record_id=record_id, started_at__gte=since, test=False
        )
        .exclude(status=RunStatus.SKIPPED)
        .exclude(pk=run.pk)
    )
    return recent.count() >= max_runs_per_hour()


def start_run(
    rule: Rule,
    *,
    entity: str,
    record_id: int | None,
    event: OutboxEvent | None = None,
    occurrence: str = "",
    depth: int = 1,
) -> RuleRun | None:
    """Create the run row (the receipt) and execute the rule. None when this event or
    occurrence already has a run: the redelivery case."""
    if event is not None and RuleRun.objects.filter(rule=rule, event_id=event.pk).exists():
        return None
    try:
        with transaction.atomic():
            run = RuleRun.objects.create(
                rule=rule, entity=entity, record_id=record_id,
                event_id=event.pk if event else None, occurrence=occurrence, depth=depth,
            )  # fmt: skip
    except IntegrityError:
        return None
    Rule.objects.filter(pk=rule.pk).update(
        runs_total=F("runs_total") + 1, last_run_at=timezone.now()
    )
    if depth > MAX_DEPTH:
        _finish(run, RunStatus.SKIPPED, "loop protection: caused by automation too deep")
        return run
    if _too_many(run):
        _finish(run, RunStatus.SKIPPED, "loop protection: too many runs for this record this hour")
        return run
    record = load(entity, record_id) if entity else None
    if entity and record is None:
        _finish(run, RunStatus.SKIPPED, "the record no longer exists")
        return run
    payload = dict(event.payload or {}) if event else {}
    if not evaluate(rule.conditions, entity, record, payload):
        _finish(run, RunStatus.SKIPPED, "conditions not met")
        return run
    execute(run, rule, record, start=0, payload=payload)
    return run


def execute(
    run: RuleRun, rule: Rule, record: Any, *, start: int, payload: dict[str, Any] | None = None
) -> None:
    """Run the actions from ``start`` on; stop at a wait (leaving a PendingStep) or a failure."""
    ctx = actions.Context(rule=rule, run=run, record=record, payload=payload or {})
    for index in range(start, len(rule.actions)):
        action = rule.actions[index]
        if action.get("type") == "wait":
            due = actions.wait_until(ctx, action)
            if due is not None and due > timezone.now():
                PendingStep.objects.update_or_create(
                    run=run, defaults={"step_index": index + 1, "due_at": due, "claimed_at": None}
                )
                RunStep.objects.create(
                    run=run, index=index, action="wait", status=StepStatus.WAITING,
                    result=f"until {timezone.localtime(due):%Y-%m-%d %H:%M}",
                    data={"due_at": due.isoformat()},
                )  # fmt: skip
                _finish(run, RunStatus.WAITING)
                return
            RunStep.objects.create(run=run, index=index, action="wait", status=StepStatus.DONE,
                                   result="no wait needed")  # fmt: skip
            continue
        if not _run_step(ctx, index, action):
            _finish(run, RunStatus.FAILED, f"step {index + 1} failed")
            return
        if record is not None and action.get("type") not in OWN_ROWS_ONLY:
            record = load(run.entity, record.pk)
            ctx.record = record
            if record is None:
                _finish(run, RunStatus.DONE, "the record was removed by a step")
                return
    _finish(run, RunStatus.DONE)


def _run_step(ctx: actions.Context, index: int, action: dict[str, Any]) -> bool:
    publishes = action.get("type") not in OWN_ROWS_ONLY
    before = 0
    if publishes:
        before = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    try:
        with transaction.atomic():
            result, data = actions.perform(ctx, index, action)
    except Exception as exc:  # a step's failure is logged on the run, never raised
        RunStep.objects.create(run=ctx.run, index=index, action=action.get("type", ""),
                               status=StepStatus.FAILED, error=_error_text(exc)[:2000])  # fmt: skip
        return False
    RunStep.objects.create(run=ctx.run, index=index, action=action.get("type", ""),
                           status=StepStatus.DONE, result=result[:2000], data=data)  # fmt: skip
    if not publishes:
        return True
    caused = OutboxEvent.objects.filter(id__gt=before, channel=Channel.AUTOMATION).values_list(
        "id", flat=True
    )
    EventOrigin.objects.bulk_create(
        [EventOrigin(event_id=i, run=ctx.run, depth=ctx.run.depth) for i in caused],
        ignore_conflicts=True,
    )
    return True


def _error_text(exc: Exception) -> str:
    detail = getattr(exc, "detail", None)
    return str(detail or exc) or exc.__class__.__name__


def resume_due(*, now: dt.datetime | None = None, limit: int = 100) -> int:
    """Periodic job: continue waiting runs whose wait is over, one transaction each."""
    now = now or timezone.now()
    done = 0
    ids = list(
        PendingStep.objects.filter(due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    for pk in ids:
        with transaction.atomic():
            pending = (
                PendingStep.objects.select_for_update(skip_locked=True)
                .select_related("run__rule").filter(pk=pk, due_at__lte=now).first()
            )  # fmt: skip
            if pending is None:
                continue
            run, index = pending.run, pending.step_index
            pending.delete()
            run.status = RunStatus.RUNNING
            run.save(update_fields=["status"])
            record = load(run.entity, run.record_id) if run.entity else None
            if run.entity and record is None:
                _finish(run, RunStatus.SKIPPED, "the record no longer exists")
            else:
                execute(run, run.rule, record, start=index)
            done += 1
    return done
