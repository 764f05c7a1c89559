"""Automation rules over the API: CRUD, on/off, the run log, test runs and recipes.
Administrators only (others get 403); validation errors name the place in the rule JSON."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Router, Status
from pydantic import WithJsonSchema

from voronka.automation import recipes as recipe_mod
from voronka.automation import services
from voronka.automation.models import Rule, RuleRun
from voronka.core.api import ApiRequest, require_admin
from voronka.core.errors import NotFound
from voronka.core.schemas import ERRORS, StrictInput

automation = Router(tags=["automation"])

LooseObj = Annotated[Any, WithJsonSchema({"type": "object"})]
LooseList = Annotated[Any, WithJsonSchema({"type": "array", "items": {"type": "object"}})]


class RuleIn(StrictInput):
    name: str = ""
    active: bool = False
    trigger: LooseObj = None
    conditions: LooseObj = None
    actions: LooseList = None


class RulePatch(StrictInput):
    name: str | None = None
    active: bool | None = None
    trigger: LooseObj = None
    conditions: LooseObj = None
    actions: LooseList = None


class TestRunIn(StrictInput):
    record_id: int | None = None
    really: bool = False


def rule_out(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.pk, "name": rule.name, "active": rule.active, "trigger": rule.trigger,
        "conditions": rule.conditions, "actions": rule.actions, "recipe": rule.recipe,
        "runs_total": rule.runs_total, "runs_failed": rule.runs_failed,
        "last_run_at": rule.last_run_at, "created_at": rule.created_at,
        "updated_at": rule.updated_at,
    }  # fmt: skip


def run_out(run: RuleRun) -> dict[str, Any]:
    return {
        "id": run.pk, "rule_id": run.rule_id, "entity": run.entity, "record_id": run.record_id,
        "event_id": run.event_id, "status": run.status, "reason": run.reason,
        "depth": run.depth, "test": run.test, "dry_run": run.dry_run,
        "started_at": run.started_at, "finished_at": run.finished_at,
        "steps": [{"index": s.index, "action": s.action, "status": s.status,
                   "result": s.result, "error": s.error, "at": s.at} for s in run.steps.all()],
    }  # fmt: skip


def _rule(request: ApiRequest, pk: int) -> Rule:
    require_admin(request.auth)
    rule = Rule.objects.filter(pk=pk).first()
    if rule is None:
        raise NotFound("no such rule")
    return rule


@automation.get("/rules")
def rule_list(request: ApiRequest) -> list[dict[str, Any]]:
    require_admin(request.auth)
    return [rule_out(r) for r in Rule.objects.order_by("name", "id")]


@automation.post("/rules", response={201: dict[str, Any], **ERRORS})
def rule_add(request: ApiRequest, body: RuleIn) -> Status:
    rule = services.rule_create(actor=request.auth, data=body.dict())
    return Status(201, rule_out(rule))


@automation.get("/rules/{pk}")
def rule_get(request: ApiRequest, pk: int) -> dict[str, Any]:
    return rule_out(_rule(request, pk))


@automation.patch("/rules/{pk}")
def rule_patch(request: ApiRequest, pk: int, body: RulePatch) -> dict[str, Any]:
    rule = _rule(request, pk)
    data = {k: v for k, v in body.dict().items() if v is not None}
    return rule_out(services.rule_update(actor=request.auth, rule=rule, data=data))


@automation.delete("/rules/{pk}", response={204: None, **ERRORS})
def rule_remove(request: ApiRequest, pk: int) -> Status:
    services.rule_delete(actor=request.auth, rule=_rule(request, pk))
    return Status(204, None)


@automation.post("/rules/{pk}/enable")
def rule_enable(request: ApiRequest, pk: int) -> dict[str, Any]:
    rule = _rule(request, pk)
    return rule_out(services.rule_set_active(actor=request.auth, rule=rule, active=True))


@automation.post("/rules/{pk}/disable")
def rule_disable(request: ApiRequest, pk: int) -> dict[str, Any]:
    rule = _rule(request, pk)
    return rule_out(services.rule_set_active(actor=request.auth, rule=rule, active=False))


@automation.get("/rules/{pk}/runs")
def rule_runs(request: ApiRequest, pk: int, limit: int = 50) -> list[dict[str, Any]]:
    rule = _rule(request, pk)
    runs = rule.runs.prefetch_related("steps").order_by("-id")[: max(1, min(limit, 200))]
    return [run_out(r) for r in runs]


@automation.post("/rules/{pk}/test")
def rule_test(request: ApiRequest, pk: int, body: TestRunIn) -> dict[str, Any]:
    rule = _rule(request, pk)
    run = services.rule_test_run(
        actor=request.auth, rule=rule, record_id=body.record_id, really=body.really
    )
    return run_out(run)


@automation.get("/recipes")
def recipe_list(request: ApiRequest) -> list[dict[str, Any]]:
    require_admin(request.auth)
    return [{"key": r.key, "title": str(r.title), "description": str(r.description)}
            for r in recipe_mod.RECIPES]  # fmt: skip


@automation.post("/recipes/{key}/install", response={201: dict[str, Any], **ERRORS})
def recipe_install(request: ApiRequest, key: str) -> Status:
    require_admin(request.auth)
    if key not in recipe_mod.BY_KEY:
        raise NotFound("no such recipe")
    rule = recipe_mod.recipe_install(actor=request.auth, key=key)
    return Status(201, rule_out(rule))
