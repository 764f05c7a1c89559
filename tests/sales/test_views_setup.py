"""The sales settings pages: administrators only (403 for anyone else), plain forms that
redirect on success and show the error next to the input on bad input."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from voronka.sales.models import AssignmentRule, Currency, LostReason, Pipeline, Stage, StageKind
from voronka.sales.services import deal_create

pytestmark = pytest.mark.django_db


def default_pipeline() -> Pipeline:
    return Pipeline.objects.get(is_default=True)


def stages_of(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("position", "id"))


def text(response: Any) -> str:
    return response.content.decode()


def setup_urls() -> list[tuple[str, str]]:
    """(method, url) for every settings page and action, on real objects."""
    pipeline = default_pipeline()
    stage = stages_of(pipeline)[0]
    reason = LostReason.objects.first()
    rule = AssignmentRule.objects.create(name="R", kind="by_source", match_value="x")
    return [
        ("get", reverse("sales:pipelines")),
        ("post", reverse("sales:pipelines")),
        ("get", reverse("sales:setup_pipeline", args=[pipeline.pk])),
        ("post", reverse("sales:setup_pipeline", args=[pipeline.pk])),
        ("post", reverse("sales:setup_pipeline_rename", args=[pipeline.pk])),
        ("post", reverse("sales:setup_pipeline_default", args=[pipeline.pk])),
        ("post", reverse("sales:setup_pipeline_delete", args=[pipeline.pk])),
        ("get", reverse("sales:setup_stage", args=[stage.pk])),
        ("post", reverse("sales:setup_stage_move", args=[stage.pk])),
        ("post", reverse("sales:setup_stage_delete", args=[stage.pk])),
        ("get", reverse("sales:setup_lost_reasons")),
        ("post", reverse("sales:setup_lost_reason", args=[reason.pk])),
        ("get", reverse("sales:setup_currencies")),
        ("post", reverse("sales:setup_currency", args=["USD"])),
        ("post", reverse("sales:setup_currency_base", args=["USD"])),
        ("get", reverse("sales:setup_assignment_rules")),
        ("get", reverse("sales:setup_assignment_rule", args=[rule.pk])),
        ("post", reverse("sales:setup_assignment_rule_move", args=[rule.pk])),
        ("post", reverse("sales:setup_assignment_rule_delete", args=[rule.pk])),
    ]


def test_every_settings_page_is_403_for_a_sales_rep_and_changes_nothing(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    urls = setup_urls()
    before = (Stage.objects.count(), Pipeline.objects.count(), AssignmentRule.objects.count())
    for method, url in urls:
        response = getattr(client, method)(url, {"name": "Hacked", "direction": "up"})
        assert response.status_code == 403, url
    after = (Stage.objects.count(), Pipeline.objects.count(), AssignmentRule.objects.count())
    assert after == before
    assert not Pipeline.objects.filter(name="Hacked").exists()
    assert Currency.objects.get(is_base=True).code == "RUB"


def test_a_head_of_sales_is_refused_too(client: Client, make_user: Any) -> None:
    client.force_login(make_user("head", role="head_of_sales"))
    assert client.get(reverse("sales:pipelines")).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get(reverse("sales:pipelines"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_nav_shows_sales_settings_to_admins_only(
    client: Client, admin: Any, alice: Any
) -> None:
    client.force_login(alice)
    assert reverse("sales:pipelines") not in text(client.get("/"))
    client.force_login(admin)
    assert reverse("sales:pipelines") in text(client.get("/"))


def test_every_settings_page_opens_for_an_admin(client: Client, admin: Any) -> None:
    client.force_login(admin)
    for method, url in setup_urls():
        if method == "get":
            assert client.get(url).status_code == 200, url


# --- pipelines ---------------------------------------------------------------------------------


def test_admin_creates_a_pipeline_and_lands_on_its_stages(client: Client, admin: Any) -> None:
    client.force_login(admin)
    response = client.post(reverse("sales:pipelines"), {"name": "Partners"}, follow=True)
    pipeline = Pipeline.objects.get(name="Partners")
    assert response.redirect_chain[-1][0] == reverse("sales:setup_pipeline", args=[pipeline.pk])
    page = text(response)
    assert "Pipeline “Partners” created" in page
    assert [s.kind for s in stages_of(pipeline)] == ["open", "won", "lost"]


def test_a_pipeline_without_a_name_shows_the_error(client: Client, admin: Any) -> None:
    client.force_login(admin)
    before = Pipeline.objects.count()
    response = client.post(reverse("sales:pipelines"), {"name": "  "})
    assert response.status_code == 400
    assert 'id="id_new_pipeline_error"' in text(response)
    assert "must be 1 to 128 characters" in text(response)
    assert Pipeline.objects.count() == before


def test_rename_and_make_default(client: Client, admin: Any) -> None:
    client.force_login(admin)
    old = default_pipeline()
    other = Pipeline.objects.create(name="Other", position=5)
    Stage.objects.create(pipeline=other, name="Open", kind=StageKind.OPEN)
    bad = client.post(reverse("sales:setup_pipeline_rename", args=[other.pk]), {"name": ""})
    assert bad.status_code == 400 and 'id="id_pipeline_name_error"' in text(bad)
    client.post(reverse("sales:setup_pipeline_rename", args=[other.pk]), {"name": "Service"})
    client.post(reverse("sales:setup_pipeline_default", args=[other.pk]))
    other.refresh_from_db()
    old.refresh_from_db()
    assert other.name == "Service" and other.is_default and not old.is_default


def test_deleting_a_pipeline_with_deals_is_refused_with_a_message(
    client: Client, admin: Any, alice: Any
) -> None:
    client.force_login(admin)
    client.post(reverse("sales:pipelines"), {"name": "Partners"})
    partners = Pipeline.objects.get(name="Partners")
    deal_create(actor=alice, data={"title": "A", "pipeline_id": partners.pk})
    response = client.post(reverse("sales:setup_pipeline_delete", args=[partners.pk]), follow=True)
    assert "“Partners” was not deleted: 1 deal is in this pipeline" in text(response)
    assert Pipeline.objects.filter(pk=partners.pk).exists()


def test_an_empty_pipeline_is_deleted(client: Client, admin: Any) -> None:
    client.force_login(admin)
    client.post(reverse("sales:pipelines"), {"name": "Partners"})
    partners = Pipeline.objects.get(name="Partners")
    response = client.post(reverse("sales:setup_pipeline_delete", args=[partners.pk]), follow=True)
    assert "Pipeline “Partners” deleted." in text(response)
    assert not Pipeline.objects.filter(name="Partners").exists()


def test_the_pipelines_page_costs_a_fixed_number_of_queries(
    client: Client, admin: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(admin)
    for i in range(5):
        client.post(reverse("sales:pipelines"), {"name": f"P{i}"})
    client.get(reverse("sales:pipelines"))  # warm the session and content types
    with django_assert_max_num_queries(8):
        response = client.get(reverse("sales:pipelines"))
    assert text(response).count('class="vk-stage-chip"') == 6 + 5 * 3


# --- stages ------------------------------------------------------------------------------------


def test_admin_adds_a_stage_with_a_checklist_and_required_fields(
    client: Client, admin: Any
) -> None:
    client.force_login(admin)
    pipeline = default_pipeline()
    url = reverse("sales:setup_pipeline", args=[pipeline.pk])
    response = client.post(url, {
        "name": "Contract", "color": "#12b886", "kind": "open", "probability": "85",
        "instructions": "Send the contract\r\nGet it signed\r\n\r\n",
        "required_fields": ["amount", "company"],
    })  # fmt: skip
    stage = Stage.objects.get(name="Contract")
    assert response.status_code == 302
    assert response["Location"].endswith(f"#stage-{stage.pk}")
    assert stage.instructions == ["Send the contract", "Get it signed"]
    assert stage.required_fields == ["amount", "company"]
    assert (stage.probability, stage.color) == (85, "#12b886")
    page = text(client.get(url))
    assert "Get it signed" in page and "required: Amount, Company" in page


def test_bad_stage_input_stays_in_the_form_with_the_errors(client: Client, admin: Any) -> None:
    client.force_login(admin)
    pipeline = default_pipeline()
    before = pipeline.stages.count()
    response = client.post(reverse("sales:setup_pipeline", args=[pipeline.pk]), {
        "name": "", "color": "red", "kind": "open", "probability": "120",
        "instructions": "Keep me",
    })  # fmt: skip
    page = text(response)
    assert response.status_code == 400
    for field in ("name", "color", "probability"):
        assert f'id="id_{field}_error"' in page, field
    assert "Keep me" in page  # what was typed is still there
    assert pipeline.stages.count() == before


def test_the_stage_edit_page_saves_and_refuses_removing_the_last_won_kind(
    client: Client, admin: Any
) -> None:
    client.force_login(admin)
    won = default_pipeline().stages.get(kind=StageKind.WON)
    url = reverse("sales:setup_stage", args=[won.pk])
    response = client.post(url, {"name": "Paid", "color": "#40c057", "kind": "open",
                                 "probability": "100"})  # fmt: skip
    assert response.status_code == 400
    assert 'id="id_kind_error"' in text(response)
    won.refresh_from_db()
    assert won.kind == StageKind.WON and won.name != "Paid"
    response = client.post(url, {"name": "Paid", "color": "#40c057", "kind": "won",
                                 "probability": "100", "instructions": "Thank the customer"})  # fmt: skip
    assert response.status_code == 302
    won.refresh_from_db()
    assert won.name == "Paid" and won.instructions == ["Thank the customer"]


def test_up_and_down_reorder_stages_without_javascript(client: Client, admin: Any) -> None:
    client.force_login(admin)
    pipeline = default_pipeline()
    first, second = stages_of(pipeline)[:2]
    response = client.post(reverse("sales:setup_stage_move", args=[second.pk]), {"direction": "up"})
    assert response.status_code == 302 and response["Location"].endswith(f"#stage-{second.pk}")
    assert stages_of(pipeline)[:2] == [second, first]
    client.post(reverse("sales:setup_stage_move", args=[second.pk]), {"direction": "down"})
    assert stages_of(pipeline)[:2] == [first, second]


def test_deleting_a_stage_with_deals_names_how_many(client: Client, admin: Any, alice: Any) -> None:
    client.force_login(admin)
    stage = stages_of(default_pipeline())[0]
    for title in ("A", "B"):
        deal_create(actor=alice, data={"title": title})
    response = client.post(reverse("sales:setup_stage_delete", args=[stage.pk]), follow=True)
    assert "2 deals are in this stage: move them to another stage first" in text(response)
    assert Stage.objects.filter(pk=stage.pk).exists()


def test_an_empty_stage_is_deleted(client: Client, admin: Any) -> None:
    client.force_login(admin)
    stage = stages_of(default_pipeline())[1]
    response = client.post(reverse("sales:setup_stage_delete", args=[stage.pk]), follow=True)
    assert f"Stage “{stage.name}” deleted." in text(response)
    assert not Stage.objects.filter(pk=stage.pk).exists()


def test_a_missing_stage_is_404(client: Client, admin: Any) -> None:
    client.force_login(admin)
    assert client.get(reverse("sales:setup_stage", args=[999999])).status_code == 404


# --- lost reasons ------------------------------------------------------------------------------


def test_lost_reasons_add_rename_and_deactivate(client: Client, admin: Any) -> None:
    client.force_login(admin)
    url = reverse("sales:setup_lost_reasons")
    client.post(url, {"name": "Went bankrupt"})
    reason = LostReason.objects.get(name="Went bankrupt")
    duplicate = client.post(url, {"name": "went bankrupt"})
    assert duplicate.status_code == 400 and "this reason exists already" in text(duplicate)
    assert 'id="id_new_reason_error"' in text(duplicate)
    edit = reverse("sales:setup_lost_reason", args=[reason.pk])
    bad = client.post(edit, {"name": ""})
    assert bad.status_code == 400 and f'id="reason-{reason.pk}_error"' in text(bad)
    client.post(edit, {"name": "Closed down"})
    response = client.post(edit, {"active": "false"}, follow=True)
    reason.refresh_from_db()
    assert (reason.name, reason.active) == ("Closed down", False)
    assert "will no longer be offered" in text(response)


# --- currencies --------------------------------------------------------------------------------


def test_a_currency_with_a_bad_rate_shows_the_error(client: Client, admin: Any) -> None:
    client.force_login(admin)
    url = reverse("sales:setup_currencies")
    response = client.post(url, {"code": "CNY", "name": "Yuan", "symbol": "¥", "rate": "-1"})
    assert response.status_code == 400
    assert 'id="id_rate_new_error"' in text(response)
    assert not Currency.objects.filter(code="CNY").exists()
    response = client.post(url, {"code": "cny", "name": "Yuan", "symbol": "¥", "rate": "12,5"})
    assert response.status_code == 302
    assert Currency.objects.get(code="CNY").rate == 12.5


def test_a_rate_is_edited_in_its_row(client: Client, admin: Any) -> None:
    client.force_login(admin)
    url = reverse("sales:setup_currency", args=["USD"])
    bad = client.post(url, {"name": "US dollar", "symbol": "$", "rate": "abc"})
    assert bad.status_code == 400 and 'id="cur-USD-rate_error"' in text(bad)
    client.post(url, {"name": "US dollar", "symbol": "$", "rate": "95.25"})
    usd = Currency.objects.get(code="USD")
    assert (usd.name, str(usd.rate)) == ("US dollar", "95.250000")


def test_choosing_the_base_currency(client: Client, admin: Any) -> None:
    client.force_login(admin)
    response = client.post(reverse("sales:setup_currency_base", args=["EUR"]), follow=True)
    assert "EUR is now the base currency" in text(response)
    assert Currency.objects.get(is_base=True).code == "EUR"
    assert str(Currency.objects.get(code="USD").rate) == "0.900000"


# --- assignment rules --------------------------------------------------------------------------


def test_a_round_robin_rule_shows_who_is_next(
    client: Client, admin: Any, alice: Any, bob: Any, team_a: Any
) -> None:
    client.force_login(admin)
    url = reverse("sales:setup_assignment_rules")
    bad = client.post(url, {"name": "RR", "kind": "round_robin", "active": "on"})
    assert bad.status_code == 400 and 'id="id_team_id_new_error"' in text(bad)
    client.post(url, {"name": "RR", "kind": "round_robin", "team_id": team_a.pk, "active": "on"})
    rule = AssignmentRule.objects.get(name="RR")
    first = min([alice, bob], key=lambda u: u.pk)
    page = text(client.get(url))
    assert str(first) in page and "Team A, in turn" in page
    edit = reverse("sales:setup_assignment_rule", args=[rule.pk])
    assert f"The next lead goes to {first}." in text(client.get(edit))


def test_rules_are_edited_moved_and_deleted(client: Client, admin: Any, alice: Any) -> None:
    client.force_login(admin)
    url = reverse("sales:setup_assignment_rules")
    for name, source in (("Site", "website"), ("Fair", "exhibition")):
        client.post(url, {"name": name, "kind": "by_source", "match_value": source,
                          "user_id": alice.pk, "active": "on"})  # fmt: skip
    site, fair = AssignmentRule.objects.order_by("position", "id")
    client.post(reverse("sales:setup_assignment_rule_move", args=[fair.pk]), {"direction": "up"})
    assert list(AssignmentRule.objects.order_by("position", "id")) == [fair, site]
    edit = reverse("sales:setup_assignment_rule", args=[site.pk])
    bad = client.post(edit, {"name": "Site", "kind": "by_source", "match_value": ""})
    assert bad.status_code == 400 and 'id="id_match_value_error"' in text(bad)
    client.post(edit, {"name": "Site", "kind": "by_region", "match_value": "Москва",
                       "user_id": alice.pk})  # fmt: skip
    site.refresh_from_db()
    assert (site.kind, site.match_value, site.active) == ("by_region", "Москва", False)
    client.post(reverse("sales:setup_assignment_rule_delete", args=[fair.pk]))
    assert list(AssignmentRule.objects.all()) == [site]
