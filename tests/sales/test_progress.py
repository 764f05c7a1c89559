"""The funnel's "reached" figures stay those of the stage history whatever the admin does to
the stages: each deal's kept progress (sales/progress.py) is checked against the history."""

from __future__ import annotations

from typing import Any

import pytest

from voronka.sales import progress
from voronka.sales.analytics import DashboardFilter, funnel
from voronka.sales.models import Deal, DealStageHistory, LostReason, Pipeline, Stage, StageKind
from voronka.sales.services import (
    deal_create,
    deal_move,
    deal_update,
    pipeline_create,
    stage_add,
    stage_change,
    stage_remove,
    stage_shift,
)

pytestmark = pytest.mark.django_db


def _from_history(pipeline: Pipeline) -> dict[int, int]:
    """{stage id: deals that reached it}, worked out from the history alone."""
    stages = list(pipeline.stages.order_by("position", "id"))
    reached = dict.fromkeys((s.pk for s in stages), 0)
    for deal in Deal.objects.filter(pipeline=pipeline):
        visits = [
            v.stage
            for v in DealStageHistory.objects.filter(deal=deal, stage__pipeline=pipeline)
            .select_related("stage")
            .order_by("entered_at", "id")
        ]
        positions = [s.position for s in visits if s.kind != StageKind.LOST]
        lost = [s for s in visits if s.kind == StageKind.LOST]
        for stage in stages:
            if stage.kind != StageKind.LOST and positions and max(positions) >= stage.position:
                reached[stage.pk] += 1
        if lost:
            reached[lost[-1].pk] += 1
    return reached


def _shown(admin: Any, pipeline: Pipeline) -> dict[int, int]:
    """The funnel's figures, after checking that every deal's kept progress is what a full
    recount from the history gives (the services recount only the deals a change concerns)."""
    kept = _kept()
    progress.refresh(Deal.objects.all(), DealStageHistory)
    assert _kept() == kept
    return {row.stage.pk: row.reached for row in funnel(admin, DashboardFilter(pipeline=pipeline))}


def _kept() -> list[tuple[int, int | None, int | None]]:
    return list(Deal.objects.order_by("pk").values_list("pk", "furthest_position", "lost_at_stage"))


@pytest.fixture
def board(admin: Any, alice: Any) -> dict[str, Any]:
    """A pipeline A → B → C → Won / Lost with deals at every point of it."""
    pipeline = pipeline_create(actor=admin, name="Board", stages=[
        {"name": "A"}, {"name": "B"}, {"name": "C"},
        {"name": "Won", "kind": "won"}, {"name": "Lost", "kind": "lost"},
    ])  # fmt: skip
    s = {st.name: st for st in pipeline.stages.all()}
    reason = LostReason.objects.first()
    lost_kw = {"lost_reason_id": reason.pk} if reason else {}

    def deal(title: str, *moves: str) -> Deal:
        d = deal_create(actor=alice, data={"title": title, "pipeline_id": pipeline.pk})
        for name in moves:
            extra = lost_kw if s[name].kind == StageKind.LOST else {}
            d = deal_move(actor=alice, deal=d, stage_id=s[name].pk, **extra)
        return d

    deals = {
        "new": deal("new"),
        "skipped": deal("skipped", "C"),
        "won": deal("won", "B", "C", "Won"),
        "lost early": deal("lost early", "Lost"),
        "reopened": deal("reopened", "B", "Lost", "A"),
    }
    return {"pipeline": pipeline, "stages": s, "deals": deals}


def test_the_funnel_counts_what_the_history_says(admin: Any, board: dict[str, Any]) -> None:
    pipeline, s = board["pipeline"], board["stages"]
    shown = _shown(admin, pipeline)
    assert shown == _from_history(pipeline)
    # Every deal entered A; "skipped" passed B on its way to C; a reopened deal still counts
    # as lost where it was lost.
    assert [shown[s[n].pk] for n in ("A", "B", "C", "Won", "Lost")] == [5, 3, 2, 1, 2]


def test_reordering_adding_and_removing_stages_keep_the_funnel_true(
    admin: Any, alice: Any, board: dict[str, Any]
) -> None:
    pipeline, s = board["pipeline"], board["stages"]
    stage_shift(actor=admin, stage=s["C"], offset=-1)  # A, C, B: another order
    assert _shown(admin, pipeline) == _from_history(pipeline)
    added = stage_add(actor=admin, pipeline=pipeline, data={"name": "Offer"})  # shifts Won
    assert Stage.objects.get(pk=added.pk).position < Stage.objects.get(pk=s["Won"].pk).position
    assert _shown(admin, pipeline) == _from_history(pipeline)
    # Back from C to A: C was the furthest stage "skipped" reached, and is now empty.
    deal_move(actor=alice, deal=board["deals"]["skipped"], stage_id=s["A"].pk)
    stage_remove(actor=admin, stage=Stage.objects.get(pk=s["C"].pk))
    assert Deal.objects.get(pk=board["deals"]["skipped"].pk).furthest_position == 0
    assert _shown(admin, pipeline) == _from_history(pipeline)
    extra_lost = stage_add(
        actor=admin, pipeline=pipeline, data={"name": "No budget", "kind": "lost"}
    )
    new = deal_move(actor=alice, deal=board["deals"]["new"], stage_id=added.pk)
    deal_move(actor=alice, deal=new, stage_id=s["A"].pk)  # Offer: visited, now empty
    stage_change(actor=admin, stage=Stage.objects.get(pk=added.pk), changes={"kind": "lost"})
    assert Deal.objects.get(pk=new.pk).lost_at_stage_id == added.pk
    assert _shown(admin, pipeline) == _from_history(pipeline)
    assert extra_lost.pk in _shown(admin, pipeline)
    stage_shift(actor=admin, stage=s["A"], offset=1)  # every deal entered A
    assert _shown(admin, pipeline) == _from_history(pipeline)


def test_a_deal_moved_to_another_pipeline_and_back_counts_its_visits_there(
    admin: Any, alice: Any, board: dict[str, Any]
) -> None:
    pipeline, s = board["pipeline"], board["stages"]
    other = Pipeline.objects.get(is_default=True)
    first = other.stages.order_by("position").first()
    deal = board["deals"]["won"]
    deal = deal_update(
        actor=alice, deal=deal, changes={"pipeline_id": other.pk, "stage_id": first.pk}
    )
    assert (deal.furthest_position, deal.lost_at_stage_id) == (first.position, None)
    assert _shown(admin, pipeline) == _from_history(pipeline)
    assert _shown(admin, other) == _from_history(other)
    deal = deal_update(actor=alice, deal=deal, changes={"pipeline_id": pipeline.pk,
                                                        "stage_id": s["A"].pk})  # fmt: skip
    assert deal.furthest_position == Stage.objects.get(pk=s["Won"].pk).position
    assert _shown(admin, pipeline) == _from_history(pipeline)


def test_recomputing_from_the_history_changes_nothing(board: dict[str, Any]) -> None:
    """What the services kept is what the upgrade's migration computes from the history."""
    kept = _kept()
    assert progress.refresh(Deal.objects.all(), DealStageHistory) == len(kept)
    assert _kept() == kept
