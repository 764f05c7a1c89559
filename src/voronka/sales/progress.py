"""Where each deal got to in its pipeline, kept on the deal for the funnel.

The funnel asks, per stage, how many deals *reached* it: a deal that got to a later open or
won stage passed every earlier one (even one it skipped), and a lost stage counts the deals
lost there. Read from the stage history, that is a join and a GROUP BY over every visit (2.7
million rows for a million deals: 3–7 s). So each deal carries two columns, kept by the
services as it moves:

- ``furthest_position``: the furthest position among the open and won stages of its current
  pipeline that it entered (None if it never entered one);
- ``lost_at_stage``: the last lost stage of its current pipeline that it entered. It stays
  when the deal is reopened, so the deal still counts as lost there; a deal lost at two
  different lost stages counts at the later one.

A move within the pipeline updates them in memory before the deal is saved (no extra
query). Whatever can change them for many deals at once (stages reordered, a stage's kind
changed, a stage deleted, a deal moved to another pipeline) recomputes them from the history
with :func:`refresh`, for the deals whose history holds the stages concerned
(:func:`visitors`): the others' progress cannot change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Max, OuterRef, QuerySet, Subquery

from voronka.sales.models import StageKind

LOST = StageKind.LOST


def entered(deal: Any, stage: Any) -> None:
    """The deal enters ``stage`` of its own pipeline: update its progress in memory."""
    if stage.kind == LOST:
        deal.lost_at_stage_id = stage.pk
    elif deal.furthest_position is None or stage.position > deal.furthest_position:
        deal.furthest_position = stage.position


def visitors(deals: QuerySet[Any], history_model: Any, stage_ids: Iterable[int]) -> QuerySet[Any]:
    """Those of ``deals`` that ever entered one of ``stage_ids``."""
    visits = history_model.objects.filter(stage_id__in=list(stage_ids)).values("deal_id")
    return deals.filter(pk__in=visits)


def refresh(
    deals: QuerySet[Any], history_model: Any, *, without_stage_id: int | None = None
) -> int:
    """Recompute the progress of ``deals`` from their stage history in their current
    pipeline, in one UPDATE; the number of deals. ``history_model`` is DealStageHistory (or a
    migration's historical copy of it). ``without_stage_id`` leaves out the visits of a stage
    about to be deleted, so the deals that visited it can be chosen before it goes."""
    visits = history_model.objects.filter(
        deal_id=OuterRef("pk"), stage__pipeline_id=OuterRef("pipeline_id")
    ).order_by()
    if without_stage_id is not None:
        visits = visits.exclude(stage_id=without_stage_id)
    furthest = (
        visits.exclude(stage__kind=LOST)
        .values("deal_id")
        .annotate(m=Max("stage__position"))
        .values("m")
    )
    lost = visits.filter(stage__kind=LOST).order_by("-entered_at", "-id").values("stage_id")[:1]
    return int(
        deals.order_by().update(
            furthest_position=Subquery(furthest), lost_at_stage_id=Subquery(lost)
        )
    )
