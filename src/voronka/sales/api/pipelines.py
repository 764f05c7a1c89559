"""Sales API: pipelines and stages."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Status

from voronka.core.api import (
    IDEMPOTENCY_DOC,
    ApiRequest,
    PageParams,
    idempotent,
    page_body,
    patch_body,
    simple_page,
)
from voronka.core.errors import NotFound
from voronka.core.models import Channel
from voronka.core.schemas import ERRORS
from voronka.sales import selectors, services
from voronka.sales.models import (
    Pipeline,
    Stage,
)
from voronka.sales.schemas import (
    PipelineIn,
    PipelineOut,
    PipelinePage,
    PipelinePatch,
    StageIn,
    StageOrderIn,
    StageOut,
    StagePatch,
)
from voronka.sales.services.setup import starter_stages

# --- pipelines and stages -------------------------------------------------------------------

pipelines = Router(tags=["pipelines"])
stages = Router(tags=["pipelines"])


def stage_out(stage: Stage) -> dict[str, Any]:
    return {
        "id": stage.pk, "pipeline_id": stage.pipeline_id, "name": stage.name,
        "position": stage.position, "probability": stage.probability, "color": stage.color,
        "kind": stage.kind, "instructions": list(stage.instructions or []),
        "required_fields": list(stage.required_fields or []),
    }  # fmt: skip


def pipeline_out(pipeline: Pipeline) -> dict[str, Any]:
    """Expects the stages prefetched in order (``selectors.pipelines()``)."""
    return {
        "id": pipeline.pk, "name": pipeline.name, "position": pipeline.position,
        "is_default": pipeline.is_default, "created_at": pipeline.created_at,
        "stages": [stage_out(s) for s in pipeline.stages.all()],
    }  # fmt: skip


def _pipeline(pipeline_id: int) -> Pipeline:
    pipeline = selectors.pipelines().filter(pk=pipeline_id).first()
    if pipeline is None:
        raise NotFound(f"pipeline {pipeline_id} not found")
    return pipeline


def _stage(stage_id: int) -> Stage:
    stage = Stage.objects.filter(pk=stage_id).first()
    if stage is None:
        raise NotFound(f"stage {stage_id} not found")
    return stage


@pipelines.get("", response={200: PipelinePage, **ERRORS})
def list_pipelines(request: ApiRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Every pipeline with its stages in order."""
    return page_body(simple_page(selectors.pipelines(), ["position", "id"], page), pipeline_out)


@pipelines.post("", response={201: PipelineOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_pipeline(request: ApiRequest, payload: PipelineIn) -> Status[dict[str, Any]]:
    """Administrators only. Without ``stages`` it starts with New, Won and Lost; the first
    pipeline becomes the default."""
    body = patch_body(payload)
    stages = body.get("stages") if "stages" in body else starter_stages()
    pipeline = services.pipeline_create(actor=request.auth, name=body["name"], stages=stages)
    return Status(201, pipeline_out(_pipeline(pipeline.pk)))


@pipelines.get("/{pipeline_id}", response={200: PipelineOut, **ERRORS})
def read_pipeline(request: ApiRequest, pipeline_id: int) -> dict[str, Any]:
    return pipeline_out(_pipeline(pipeline_id))


@pipelines.patch("/{pipeline_id}", response={200: PipelineOut, **ERRORS})
def update_pipeline(
    request: ApiRequest, pipeline_id: int, payload: PipelinePatch
) -> dict[str, Any]:
    """Administrators only: rename, or make it the default (``"is_default": true``)."""
    pipeline = _pipeline(pipeline_id)
    body = patch_body(payload)
    if "name" in body:
        services.pipeline_rename(
            actor=request.auth, pipeline=pipeline, name=body["name"], channel=Channel.API
        )
    if body.get("is_default"):
        services.pipeline_set_default(actor=request.auth, pipeline=pipeline, channel=Channel.API)
    return pipeline_out(_pipeline(pipeline_id))


@pipelines.delete("/{pipeline_id}", response={204: None, **ERRORS})
def delete_pipeline(request: ApiRequest, pipeline_id: int) -> Status[None]:
    """Administrators only; a pipeline holding deals, or the only one, is refused (422)."""
    services.pipeline_delete(
        actor=request.auth, pipeline=_pipeline(pipeline_id), channel=Channel.API
    )
    return Status(204, None)


@pipelines.post(
    "/{pipeline_id}/stages", response={201: StageOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC
)
@idempotent
def create_stage(request: ApiRequest, pipeline_id: int, payload: StageIn) -> Status[dict[str, Any]]:
    """Administrators only. An open stage goes before the first won or lost stage, a closing
    stage at the end."""
    stage = services.stage_add(
        actor=request.auth, pipeline=_pipeline(pipeline_id), data=patch_body(payload)
    )
    return Status(201, stage_out(stage))


@pipelines.post(
    "/{pipeline_id}/stages/reorder",
    response={200: PipelineOut, **ERRORS},
    openapi_extra=IDEMPOTENCY_DOC,
)
@idempotent
def reorder_stages(request: ApiRequest, pipeline_id: int, payload: StageOrderIn) -> dict[str, Any]:
    """Administrators only: give every stage id of the pipeline once, in the new order."""
    pipeline = _pipeline(pipeline_id)
    services.stage_reorder(actor=request.auth, pipeline=pipeline, stage_ids=payload.stage_ids)
    return pipeline_out(_pipeline(pipeline_id))


@stages.get("/{stage_id}", response={200: StageOut, **ERRORS})
def read_stage(request: ApiRequest, stage_id: int) -> dict[str, Any]:
    return stage_out(_stage(stage_id))


@stages.patch("/{stage_id}", response={200: StageOut, **ERRORS})
def update_stage(request: ApiRequest, stage_id: int, payload: StagePatch) -> dict[str, Any]:
    """Administrators only; only the keys sent change. A stage's kind stays while deals are
    in it or while it is its pipeline's last stage of that kind (422)."""
    stage = services.stage_change(
        actor=request.auth, stage=_stage(stage_id), changes=patch_body(payload)
    )
    return stage_out(stage)


@stages.delete("/{stage_id}", response={204: None, **ERRORS})
def delete_stage(request: ApiRequest, stage_id: int) -> Status[None]:
    """Administrators only; a stage holding deals, or the last open, won or lost stage of its
    pipeline, is refused (422)."""
    services.stage_remove(actor=request.auth, stage=_stage(stage_id), channel=Channel.API)
    return Status(204, None)
