"""Administrator pages of automation: rules list with on/off, the rule editor, the run log,
test runs and recipes. Thin: parse, call a service, render. Others get 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.automation import forms, recipes, services
from voronka.automation.models import Rule
from voronka.automation.records import ENTITIES
from voronka.automation.schema import (
    ACTION_PARAMS,
    ACTIONS,
    COMPARISONS,
    EVENT_NAMES,
    TRIGGERS,
    trigger_entity,
)
from voronka.core.errors import ServiceValidationError

WEEKDAYS = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"),
            _("Saturday"), _("Sunday")]  # fmt: skip


def require_admin(request: HttpRequest) -> None:
    if not getattr(request.user, "is_admin", False):
        raise Http404("not found")


def _rule(pk: int) -> Rule:
    rule = Rule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404("not found")
    return rule


def _choices() -> dict[str, Any]:
    from voronka.accounts.models import Team
    from voronka.core.models import CustomField
    from voronka.messaging.models import MessageTemplate
    from voronka.sales.models import Stage

    custom: dict[str, list[tuple[str, str]]] = {}
    for cf in CustomField.objects.all():
        custom.setdefault(cf.entity, []).append((f"custom.{cf.key}", cf.label))
    fields = {key: [*spec.fields.items(), *custom.get(spec.event_entity, [])]
              for key, spec in ENTITIES.items()}  # fmt: skip
    return {
        "triggers": TRIGGERS, "entities": ENTITIES, "event_names": EVENT_NAMES,
        "comparisons": COMPARISONS, "action_types": ACTIONS, "action_params": ACTION_PARAMS,
        "fields": fields, "weekdays": list(enumerate(WEEKDAYS)),
        "stages": Stage.objects.select_related("pipeline").order_by("pipeline__position", "position"),
        "templates": MessageTemplate.objects.all(),
        "users": get_user_model().objects.filter(is_active=True).order_by("first_name", "username"),
        "teams": Team.objects.order_by("name"),
    }  # fmt: skip


def _editor(request: HttpRequest, data: dict[str, Any], errors: dict[str, list[str]],
            rule: Rule | None, status: int = 200) -> HttpResponse:  # fmt: skip
    rows = forms.editor_rows(data, errors)
    entity = trigger_entity(rows["trigger"])
    ctx = {**_choices(), **rows, "rule": rule, "data": data, "errors": errors,
           "entity": entity, "entity_fields": _choices()["fields"].get(entity, [])}  # fmt: skip
    return render(request, "automation/rule_edit.html", ctx, status=status)


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    require_admin(request)
    rules = Rule.objects.order_by("name", "id")
    return render(request, "automation/rules.html", {"rules": rules, "triggers": TRIGGERS})


def _save(request: HttpRequest, rule: Rule | None) -> HttpResponse:
    data = forms.parse(request.POST)
    try:
        if rule is None:
            rule = services.rule_create(actor=request.user, data=data)
        else:
            rule = services.rule_update(actor=request.user, rule=rule, data=data)
    except ServiceValidationError as exc:
        status = 400 if request.headers.get("HX-Request") else 200
        return _editor(request, data, forms.errors_by_field(exc.errors), rule, status)
    messages.success(request, _("Rule saved."))
    return redirect("automation:rule_edit", pk=rule.pk)


@login_required
def rule_new(request: HttpRequest) -> HttpResponse:
    require_admin(request)
    if request.method == "POST":
        return _save(request, None)
    data = {"name": "", "active": True, "trigger": {"type": "record_created", "entity": "contact"},
            "conditions": {"op": "and", "items": []},
            "actions": [{"type": "notify", "user": "owner"}]}  # fmt: skip
    return _editor(request, data, {}, None)


@login_required
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request)
    rule = _rule(pk)
    if request.method == "POST":
        return _save(request, rule)
    data = {"name": rule.name, "active": rule.active, "trigger": rule.trigger,
            "conditions": rule.conditions, "actions": rule.actions}  # fmt: skip
    return _editor(request, data, {}, rule)


@login_required
@require_POST
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request)
    rule = services.rule_set_active(actor=request.user, rule=_rule(pk),
                                    active=request.POST.get("active") == "on")  # fmt: skip
    if request.headers.get("HX-Request"):
        return render(request, "automation/_toggle.html", {"rule": rule})
    return redirect("automation:rules")


@login_required
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request)
    services.rule_delete(actor=request.user, rule=_rule(pk))
    messages.success(request, _("Rule deleted."))
    return redirect("automation:rules")


@login_required
def rule_runs(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request)
    rule = _rule(pk)
    page = Paginator(rule.runs.prefetch_related("steps").order_by("-id"), 25).get_page(
        request.GET.get("page")
    )
    return render(request, "automation/runs.html", {"rule": rule, "page": page})


@login_required
def rule_test(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request)
    rule = _rule(pk)
    entity = trigger_entity(rule.trigger)
    errors: dict[str, list[str]] = {}
    run = None
    record_id = request.POST.get("record_id", "")
    if request.method == "POST":
        try:
            rid = int(record_id) if record_id.strip() else None
            run = services.rule_test_run(actor=request.user, rule=rule, record_id=rid,
                                         really=request.POST.get("really") == "on")  # fmt: skip
        except ValueError:
            errors["record_id"] = [_("enter the record's number")]
        except ServiceValidationError as exc:
            errors = forms.errors_by_field(exc.errors)
    spec = ENTITIES.get(entity)
    return render(request, "automation/test.html", {
        "rule": rule, "run": run, "errors": errors, "record_id": record_id,
        "entity_label": spec.label if spec else "",
    }, status=400 if errors and request.headers.get("HX-Request") else 200)  # fmt: skip


@login_required
def recipe_list(request: HttpRequest) -> HttpResponse:
    require_admin(request)
    if request.method == "POST":
        key = request.POST.get("recipe", "")
        if key not in recipes.BY_KEY:
            raise Http404("not found")
        rule = recipes.recipe_install(actor=request.user, key=key)
        messages.success(request, _("Recipe installed. Check it and adjust it to your needs."))
        return redirect("automation:rule_edit", pk=rule.pk)
    installed = set(Rule.objects.exclude(recipe="").values_list("recipe", flat=True))
    return render(request, "automation/recipes.html",
                  {"recipes": recipes.RECIPES, "installed": installed})  # fmt: skip


# --- htmx fragments of the editor ------------------------------------------------------------


@login_required
def condition_row(request: HttpRequest) -> HttpResponse:
    require_admin(request)
    entity = request.GET.get("entity", "")
    group = request.GET.get("group")
    ctx = {**_choices(), "entity_fields": _choices()["fields"].get(entity, [])}
    if group is None:  # a whole new group with one row
        g = forms.new_index()
        return render(
            request,
            "automation/_group.html",
            {
                **ctx,
                "group": {
                    "g": g,
                    "op": "and",
                    "rows": [{"g": g, "r": 0, "prefix": f"c-{g}-0-", "cmp": "eq", "errors": {}}],
                },
            },
        )
    r = forms.new_index()
    row = {"g": group, "r": r, "prefix": f"c-{group}-{r}-", "cmp": "eq", "errors": {}}
    return render(request, "automation/_condition.html", {**ctx, "row": row})


@login_required
def action_row(request: HttpRequest) -> HttpResponse:
    require_admin(request)
    index = request.GET.get("index") or str(forms.new_index())
    kind = request.GET.get(f"a-{index}-type") or request.GET.get("type") or "notify"
    action = {"i": index, "type": kind, "a": {"type": kind}, "errors": {}, "prefix": f"a-{index}-"}
    return render(request, "automation/_action.html", {**_choices(), "action": action})


@login_required
def trigger_fields(request: HttpRequest) -> HttpResponse:
    require_admin(request)
    trigger = {p: request.GET.get(f"trigger_{p}", "") for p in forms.TRIGGER_PARAMS}
    return render(request, "automation/_trigger.html",
                  {**_choices(), "trigger": trigger, "trigger_errors": {}})  # fmt: skip


@login_required
def empty(request: HttpRequest) -> HttpResponse:
    """What a removed row is swapped for."""
    require_admin(request)
    return HttpResponse("")
