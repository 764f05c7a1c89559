"""Administrator settings of sales: pipelines and stages, lost reasons, currencies, assignment
rules. Only administrators may open these pages; anyone else gets 403 (the sidebar hides the
link from them, so a 403 only answers a typed or shared address).

Every form is a plain POST that redirects on success and re-renders with the error next to
the input (status 400) on bad input, so the pages work without JavaScript. Writes go through
``voronka.sales.services``."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from voronka.accounts.selectors import teams, users_active
from voronka.core import access
from voronka.core.custom_fields import definitions
from voronka.core.errors import ServiceValidationError
from voronka.core.models import Channel
from voronka.customers.forms import FieldView, map_errors
from voronka.sales import selectors
from voronka.sales.models import (
    AssignmentRule,
    AssignmentRuleKind,
    Currency,
    Deal,
    LostReason,
    Pipeline,
    Stage,
    StageKind,
)
from voronka.sales.services import (
    assignment_rule_create,
    assignment_rule_delete,
    assignment_rule_shift,
    assignment_rule_update,
    currency_create,
    currency_set_base,
    currency_update,
    lost_reason_create,
    lost_reason_update,
    pipeline_create,
    pipeline_delete,
    pipeline_rename,
    pipeline_set_default,
    stage_add,
    stage_change,
    stage_remove,
    stage_shift,
)
from voronka.sales.services.deals import DEAL_ENTITY
from voronka.sales.services.setup import round_robin_next, starter_stages

View = Callable[..., HttpResponse]
Errors = dict[str, list[str]]

# The deal fields a stage may require (services.deals.REQUIRABLE_FIELDS), as people name them.
REQUIRABLE_LABELS = [
    ("amount", gettext_lazy("Amount")),
    ("expected_close_date", gettext_lazy("Expected close date")),
    ("company", gettext_lazy("Company")),
    ("contacts", gettext_lazy("Contacts")),
    ("lines", gettext_lazy("Products")),
    ("source", gettext_lazy("Source")),
]


admin_only = access.admin_only(gettext_lazy("only an administrator may change sales settings"))


def _get_or_404(qs: Any, **lookup: Any) -> Any:
    obj = qs.filter(**lookup).first()
    if obj is None:
        raise Http404("not found")
    return obj


def _offset(request: HttpRequest) -> int:
    return -1 if request.POST.get("direction") == "up" else 1


def _first_error(exc: ServiceValidationError) -> str:
    return "; ".join(e.message for e in exc.errors)


def _field(
    name: str, label: Any, widget: str, values: dict[str, Any], errors: Errors, **extra: Any
) -> FieldView:
    return FieldView(
        name=name,
        label=label,
        widget=widget,
        value=values.get(name, ""),
        errors=errors.get(name, []),
        **extra,
    )


# --- pipelines ---------------------------------------------------------------------------------


def _pipelines_page(request: HttpRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    deal_counts = dict(
        Deal.objects.values("pipeline_id").annotate(n=Count("id")).values_list("pipeline_id", "n")
    )
    rows = [(p, deal_counts.get(p.pk, 0)) for p in selectors.pipelines()]
    ctx = {"rows": rows, "section": "pipelines", "new_name": "", "new_errors": [], **extra}
    return render(request, "sales/setup/pipelines.html", ctx, status=status)


@admin_only
def pipelines(request: HttpRequest) -> HttpResponse:
    """The settings landing page: every pipeline, and a form to add one."""
    if request.method != "POST":
        return _pipelines_page(request)
    name = request.POST.get("name", "")
    try:
        pipeline = pipeline_create(actor=request.user, name=name, stages=starter_stages())
    except ServiceValidationError as exc:
        return _pipelines_page(
            request,
            status=400,
            new_name=name,
            new_errors=map_errors(exc, {}).get("name", [_first_error(exc)]),
        )
    messages.success(
        request,
        _("Pipeline “%(name)s” created with a stage of each kind; add and rename stages below.")
        % {"name": pipeline.name},
    )
    return redirect("sales:setup_pipeline", pk=pipeline.pk)


def _stage_inputs(values: dict[str, Any], errors: Errors) -> list[FieldView]:
    fields = [(f"cf.{cf.key}", cf.label) for cf in definitions(DEAL_ENTITY)]
    return [
        _field("name", _("Name"), "text", values, errors, required=True),
        _field(
            "kind",
            _("Kind"),
            "select",
            values,
            errors,
            options=list(StageKind.choices),
            help=_("Won and lost stages close the deal."),
        ),
        _field(
            "probability",
            _("Probability, %"),
            "number",
            values,
            errors,
            help=_("The chance to win a deal in this stage, 0 to 100."),
        ),
        _field(
            "instructions",
            _("Checklist"),
            "textarea",
            values,
            errors,
            help=_("What to do in this stage, one item per line. Shown on the deal."),
        ),
        _field(
            "required_fields",
            _("Required before a deal enters"),
            "multiselect",
            values,
            errors,
            options=[*REQUIRABLE_LABELS, *fields],
        ),
    ]


def _stage_values_from_post(request: HttpRequest) -> dict[str, Any]:
    return {
        "name": request.POST.get("name", ""),
        "kind": request.POST.get("kind", StageKind.OPEN),
        "probability": request.POST.get("probability", "").strip() or "0",
        "color": request.POST.get("color", ""),
        "instructions": request.POST.get("instructions", ""),
        "required_fields": [v for v in request.POST.getlist("required_fields") if v],
    }


def _stage_values(stage: Stage) -> dict[str, Any]:
    return {
        "name": stage.name,
        "kind": stage.kind,
        "probability": str(stage.probability),
        "color": stage.color,
        "instructions": "\n".join(stage.instructions or []),
        "required_fields": list(stage.required_fields or []),
    }


def _pipeline_page(
    request: HttpRequest, pipeline: Pipeline, *, status: int = 200, **extra: Any
) -> HttpResponse:
    stages = list(pipeline.stages.order_by("position", "id"))
    counts = dict(
        Deal.objects.filter(pipeline=pipeline)
        .values("stage_id")
        .annotate(n=Count("id"))
        .values_list("stage_id", "n")
    )
    labels = dict(REQUIRABLE_LABELS) | {f"cf.{cf.key}": cf.label for cf in definitions(DEAL_ENTITY)}
    rows = [
        {
            "stage": s,
            "deals": counts.get(s.pk, 0),
            "first": i == 0,
            "last": i == len(stages) - 1,
            "required": [labels.get(n, n) for n in s.required_fields or []],
        }
        for i, s in enumerate(stages)
    ]
    add_values = extra.pop(
        "add_values", {"kind": StageKind.OPEN, "probability": "50", "color": "#748ffc"}
    )
    add_errors = extra.pop("add_errors", {})
    ctx = {
        "pipeline": pipeline,
        "rows": rows,
        "section": "pipelines",
        "add_inputs": _stage_inputs(add_values, add_errors),
        "add_color": add_values.get("color", ""),
        "add_color_errors": add_errors.get("color", []),
        "add_general_errors": add_errors.get("stage_ids", []),
        "rename_value": pipeline.name,
        "rename_errors": [],
        **extra,
    }
    return render(request, "sales/setup/pipeline.html", ctx, status=status)


@admin_only
def pipeline_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One pipeline's stages in order, and a form to add a stage."""
    pipeline = _get_or_404(Pipeline.objects.all(), pk=pk)
    if request.method != "POST":
        return _pipeline_page(request, pipeline)
    values = _stage_values_from_post(request)
    try:
        stage = stage_add(actor=request.user, pipeline=pipeline, data=values)
    except ServiceValidationError as exc:
        return _pipeline_page(
            request, pipeline, status=400, add_values=values, add_errors=map_errors(exc, {})
        )
    messages.success(request, _("Stage “%(name)s” added.") % {"name": stage.name})
    return redirect(reverse("sales:setup_pipeline", args=[pipeline.pk]) + f"#stage-{stage.pk}")


@admin_only
@require_POST
def pipeline_rename_view(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = _get_or_404(Pipeline.objects.all(), pk=pk)
    name = request.POST.get("name", "")
    try:
        pipeline_rename(actor=request.user, pipeline=pipeline, name=name, channel=Channel.UI)
    except ServiceValidationError as exc:
        pipeline.refresh_from_db()
        return _pipeline_page(
            request, pipeline, status=400, rename_value=name, rename_errors=[_first_error(exc)]
        )
    messages.success(request, _("Pipeline renamed."))
    return redirect("sales:setup_pipeline", pk=pipeline.pk)


@admin_only
@require_POST
def pipeline_default_view(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = _get_or_404(Pipeline.objects.all(), pk=pk)
    pipeline_set_default(actor=request.user, pipeline=pipeline, channel=Channel.UI)
    messages.success(request, _("New deals now go to “%(name)s”.") % {"name": pipeline.name})
    return redirect("sales:pipelines")


@admin_only
@require_POST
def pipeline_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = _get_or_404(Pipeline.objects.all(), pk=pk)
    name = pipeline.name
    try:
        pipeline_delete(actor=request.user, pipeline=pipeline, channel=Channel.UI)
    except ServiceValidationError as exc:
        messages.error(
            request,
            _("“%(name)s” was not deleted: %(why)s") % {"name": name, "why": _first_error(exc)},
        )
        return redirect("sales:pipelines")
    messages.success(request, _("Pipeline “%(name)s” deleted.") % {"name": name})
    return redirect("sales:pipelines")


# --- stages ------------------------------------------------------------------------------------


@admin_only
def stage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    stage = _get_or_404(Stage.objects.select_related("pipeline"), pk=pk)
    values, errors, status = _stage_values(stage), {}, 200
    if request.method == "POST":
        values = _stage_values_from_post(request)
        try:
            stage_change(actor=request.user, stage=stage, changes=values)
        except ServiceValidationError as exc:
            errors, status = map_errors(exc, {}), 400
            stage.refresh_from_db()
        else:
            messages.success(request, _("Stage “%(name)s” saved.") % {"name": stage.name})
            return redirect(
                reverse("sales:setup_pipeline", args=[stage.pipeline_id]) + f"#stage-{stage.pk}"
            )
    ctx = {
        "stage": stage,
        "pipeline": stage.pipeline,
        "inputs": _stage_inputs(values, errors),
        "color": values.get("color", ""),
        "color_errors": errors.get("color", []),
        "deals": stage.deals.count(),
        "section": "pipelines",
    }
    return render(request, "sales/setup/stage_edit.html", ctx, status=status)


@admin_only
@require_POST
def stage_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Up or down one place; a plain form post, so it works without JavaScript."""
    stage = _get_or_404(Stage.objects.select_related("pipeline"), pk=pk)
    stage_shift(actor=request.user, stage=stage, offset=_offset(request))
    return redirect(reverse("sales:setup_pipeline", args=[stage.pipeline_id]) + f"#stage-{pk}")


@admin_only
@require_POST
def stage_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    stage = _get_or_404(Stage.objects.select_related("pipeline"), pk=pk)
    name, pipeline_id = stage.name, stage.pipeline_id
    try:
        stage_remove(actor=request.user, stage=stage, channel=Channel.UI)
    except ServiceValidationError as exc:
        messages.error(
            request,
            _("Stage “%(name)s” was not deleted: %(why)s")
            % {"name": name, "why": _first_error(exc)},
        )
    else:
        messages.success(request, _("Stage “%(name)s” deleted.") % {"name": name})
    return redirect("sales:setup_pipeline", pk=pipeline_id)


# --- lost reasons ------------------------------------------------------------------------------


def _lost_reasons_page(request: HttpRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    ctx = {
        "reasons": LostReason.objects.order_by("position", "id"),
        "section": "lost_reasons",
        "new_name": "",
        "new_errors": [],
        "edit_pk": None,
        **extra,
    }
    return render(request, "sales/setup/lost_reasons.html", ctx, status=status)


@admin_only
def lost_reasons(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _lost_reasons_page(request)
    name = request.POST.get("name", "")
    try:
        reason = lost_reason_create(actor=request.user, name=name, channel=Channel.UI)
    except ServiceValidationError as exc:
        return _lost_reasons_page(
            request, status=400, new_name=name, new_errors=[_first_error(exc)]
        )
    messages.success(request, _("Reason “%(name)s” added.") % {"name": reason.name})
    return redirect("sales:setup_lost_reasons")


@admin_only
@require_POST
def lost_reason_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename (``name``) or switch on and off (``active`` = "true"/"false")."""
    reason = _get_or_404(LostReason.objects.all(), pk=pk)
    changes: dict[str, Any] = {}
    if "name" in request.POST:
        changes["name"] = request.POST["name"]
    if "active" in request.POST:
        changes["active"] = request.POST["active"] == "true"
    try:
        lost_reason_update(actor=request.user, reason=reason, changes=changes, channel=Channel.UI)
    except ServiceValidationError as exc:
        return _lost_reasons_page(
            request,
            status=400,
            edit_pk=reason.pk,
            edit_value=changes.get("name", ""),
            edit_errors=[_first_error(exc)],
        )
    if "active" in changes and not changes["active"]:
        messages.success(
            request,
            _("“%(name)s” will no longer be offered; deals lost for it keep it.")
            % {"name": reason.name},
        )
    else:
        messages.success(request, _("Reason “%(name)s” saved.") % {"name": reason.name})
    return redirect("sales:setup_lost_reasons")


# --- currencies --------------------------------------------------------------------------------


def _rate_text(rate: Decimal) -> str:
    """A rate without trailing zeros but never in exponent form (90, 0.011111)."""
    text = f"{rate:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _currencies_page(
    request: HttpRequest,
    *,
    status: int = 200,
    edit_code: str | None = None,
    edit_values: dict[str, Any] | None = None,
    edit_errors: Errors | None = None,
    **extra: Any,
) -> HttpResponse:
    base = Currency.objects.filter(is_base=True).first()
    new_values = extra.pop("new_values", {})
    new_errors = extra.pop("new_errors", {})
    rows = []
    for currency in Currency.objects.order_by("-is_base", "code"):
        editing = currency.code == edit_code
        shown = {
            "name": currency.name,
            "symbol": currency.symbol,
            "rate": _rate_text(currency.rate),
        }
        rows.append(
            {
                "currency": currency,
                "values": {**shown, **(edit_values or {})} if editing else shown,
                "errors": (edit_errors or {}) if editing else {},
            }
        )
    ctx = {
        "rows": rows,
        "base": base,
        "section": "currencies",
        "new_inputs": [
            _field(
                "code",
                _("ISO code"),
                "text",
                new_values,
                new_errors,
                required=True,
                help=_("Three letters, like USD or CNY."),
            ),
            _field("name", _("Name"), "text", new_values, new_errors, required=True),
            _field("symbol", _("Symbol"), "text", new_values, new_errors),
            _field(
                "rate",
                _("Rate"),
                "number",
                new_values,
                new_errors,
                required=True,
                help=(_("How many %(base)s one unit is worth.") % {"base": base.code})
                if base
                else "",
            ),
        ],
        **extra,
    }
    return render(request, "sales/setup/currencies.html", ctx, status=status)


@admin_only
def currencies(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _currencies_page(request)
    values = {n: request.POST.get(n, "") for n in ("code", "name", "symbol", "rate")}
    try:
        currency = currency_create(actor=request.user, data=values, channel=Channel.UI)
    except ServiceValidationError as exc:
        return _currencies_page(
            request, status=400, new_values=values, new_errors=map_errors(exc, {})
        )
    messages.success(request, _("Currency %(code)s added.") % {"code": currency.code})
    return redirect("sales:setup_currencies")


@admin_only
@require_POST
def currency_edit(request: HttpRequest, code: str) -> HttpResponse:
    currency = _get_or_404(Currency.objects.all(), code=code.upper())
    values = {n: request.POST.get(n, "") for n in ("name", "symbol", "rate")}
    if currency.is_base:
        values.pop("rate")  # always 1; the row shows no input for it
    try:
        currency_update(actor=request.user, currency=currency, changes=values, channel=Channel.UI)
    except ServiceValidationError as exc:
        return _currencies_page(
            request,
            status=400,
            edit_code=currency.code,
            edit_values=values,
            edit_errors=map_errors(exc, {}),
        )
    messages.success(request, _("Currency %(code)s saved.") % {"code": currency.code})
    return redirect("sales:setup_currencies")


@admin_only
@require_POST
def currency_base(request: HttpRequest, code: str) -> HttpResponse:
    currency = _get_or_404(Currency.objects.all(), code=code.upper())
    try:
        currency_set_base(actor=request.user, currency=currency, channel=Channel.UI)
    except ServiceValidationError as exc:
        messages.error(request, _first_error(exc))
    else:
        messages.success(
            request,
            _("%(code)s is now the base currency; the other rates were recalculated against it.")
            % {"code": currency.code},
        )
    return redirect("sales:setup_currencies")


# --- assignment rules --------------------------------------------------------------------------


def _rule_values(rule: AssignmentRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "kind": rule.kind,
        "match_value": rule.match_value,
        "team_id": str(rule.team_id or ""),
        "user_id": str(rule.user_id or ""),
        "active": rule.active,
    }


def _rule_values_from_post(request: HttpRequest) -> dict[str, Any]:
    values: dict[str, Any] = {
        n: request.POST.get(n, "").strip()
        for n in ("name", "kind", "match_value", "team_id", "user_id")
    }
    values["active"] = request.POST.get("active") in ("on", "true", "1")
    return values


def _rule_inputs(values: dict[str, Any], errors: Errors) -> list[FieldView]:
    team_options = [("", "—")] + [(str(t.pk), t.name) for t in teams()]
    user_options = [("", "—")] + [
        (str(u.pk), str(u)) for u in users_active().order_by("last_name", "first_name", "id")
    ]
    return [
        _field("name", _("Name"), "text", values, errors, required=True),
        _field(
            "kind",
            _("Kind"),
            "select",
            values,
            errors,
            required=True,
            options=list(AssignmentRuleKind.choices),
        ),
        _field(
            "match_value",
            _("Source or region"),
            "text",
            values,
            errors,
            help=_(
                "For “by source” and “by region”: the lead's source or region, like "
                "website. Case does not matter."
            ),
        ),
        _field(
            "team_id",
            _("Team"),
            "select",
            values,
            errors,
            options=team_options,
            help=_("Its active members take turns."),
        ),
        _field(
            "user_id",
            _("User"),
            "select",
            values,
            errors,
            options=user_options,
            help=_("By source or region only: this user gets every matching lead."),
        ),
        _field("active", _("Active"), "checkbox", values, errors),
    ]


def _rules_page(request: HttpRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    rules = list(AssignmentRule.objects.select_related("team", "user").order_by("position", "id"))
    new_values = extra.pop("new_values", {"kind": AssignmentRuleKind.ROUND_ROBIN, "active": True})
    ctx = {
        "rows": [(r, round_robin_next(r)) for r in rules],
        "section": "assignment",
        "new_inputs": _rule_inputs(new_values, extra.pop("new_errors", {})),
        **extra,
    }
    return render(request, "sales/setup/assignment_rules.html", ctx, status=status)


@admin_only
def assignment_rules(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _rules_page(request)
    values = _rule_values_from_post(request)
    try:
        rule = assignment_rule_create(actor=request.user, data=values, channel=Channel.UI)
    except ServiceValidationError as exc:
        return _rules_page(request, status=400, new_values=values, new_errors=map_errors(exc, {}))
    messages.success(request, _("Rule “%(name)s” added.") % {"name": rule.name})
    return redirect("sales:setup_assignment_rules")


@admin_only
def assignment_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _get_or_404(AssignmentRule.objects.select_related("team", "user"), pk=pk)
    values, errors, status = _rule_values(rule), {}, 200
    if request.method == "POST":
        values = _rule_values_from_post(request)
        try:
            assignment_rule_update(
                actor=request.user, rule=rule, changes=values, channel=Channel.UI
            )
        except ServiceValidationError as exc:
            errors, status = map_errors(exc, {}), 400
            rule.refresh_from_db()
        else:
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
            return redirect("sales:setup_assignment_rules")
    ctx = {
        "rule": rule,
        "inputs": _rule_inputs(values, errors),
        "next_user": round_robin_next(rule),
        "section": "assignment",
    }
    return render(request, "sales/setup/assignment_rule_edit.html", ctx, status=status)


@admin_only
@require_POST
def assignment_rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _get_or_404(AssignmentRule.objects.all(), pk=pk)
    assignment_rule_shift(actor=request.user, rule=rule, offset=_offset(request))
    return redirect(reverse("sales:setup_assignment_rules") + f"#rule-{pk}")


@admin_only
@require_POST
def assignment_rule_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _get_or_404(AssignmentRule.objects.all(), pk=pk)
    name = rule.name
    assignment_rule_delete(actor=request.user, rule=rule, channel=Channel.UI)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": name})
    return redirect("sales:setup_assignment_rules")


urlpatterns: list = [
    path("setup/pipelines/", pipelines, name="pipelines"),
    path("setup/pipelines/<int:pk>/", pipeline_detail, name="setup_pipeline"),
    path("setup/pipelines/<int:pk>/rename/", pipeline_rename_view, name="setup_pipeline_rename"),
    path("setup/pipelines/<int:pk>/default/", pipeline_default_view, name="setup_pipeline_default"),
    path("setup/pipelines/<int:pk>/delete/", pipeline_delete_view, name="setup_pipeline_delete"),
    path("setup/stages/<int:pk>/", stage_edit, name="setup_stage"),
    path("setup/stages/<int:pk>/move/", stage_move_view, name="setup_stage_move"),
    path("setup/stages/<int:pk>/delete/", stage_delete_view, name="setup_stage_delete"),
    path("setup/lost-reasons/", lost_reasons, name="setup_lost_reasons"),
    path("setup/lost-reasons/<int:pk>/", lost_reason_edit, name="setup_lost_reason"),
    path("setup/currencies/", currencies, name="setup_currencies"),
    path("setup/currencies/<str:code>/", currency_edit, name="setup_currency"),
    path("setup/currencies/<str:code>/base/", currency_base, name="setup_currency_base"),
    path("setup/assignment/", assignment_rules, name="setup_assignment_rules"),
    path("setup/assignment/<int:pk>/", assignment_rule_edit, name="setup_assignment_rule"),
    path(
        "setup/assignment/<int:pk>/move/", assignment_rule_move, name="setup_assignment_rule_move"
    ),
    path(
        "setup/assignment/<int:pk>/delete/",
        assignment_rule_delete_view,
        name="setup_assignment_rule_delete",
    ),
]
