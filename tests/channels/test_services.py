"""The channels services: building forms, a submission making a lead, lead sources and their
idempotent webhook intake."""

from __future__ import annotations

from typing import Any

import pytest

from voronka.channels.models import FormSubmission, InboundLead, WebForm
from voronka.channels.services import (
    SpamDetected,
    Visit,
    form_submit,
    inbound_lead_receive,
    lead_source_rotate_secret,
    secret_matches,
    web_form_create,
    web_form_delete,
    web_form_update,
)
from voronka.channels.throttle import RateLimited
from voronka.core.errors import Forbidden, ServiceValidationError
from voronka.core.models import AuditEntry, OutboxEvent
from voronka.sales.models import AssignmentRule, AssignmentRuleKind, Lead

pytestmark = pytest.mark.django_db


def fields_of(exc: Any) -> set[str]:
    return {e.field for e in exc.value.errors}


# --- building forms ---------------------------------------------------------------------------


def test_an_administrator_builds_a_form(admin: Any, budget_field: Any) -> None:
    form = web_form_create(actor=admin, data={
        "name": "Landing", "title": "Get a quote", "source": "landing",
        "fields": [{"key": "email", "required": True}, {"key": "custom.budget", "label": "Budget, ₽"}],
        "consent_required": True, "consent_text": "I agree to the processing of my data.",
        "allowed_origins": "https://Example.com/\nshop.example.com",
    })  # fmt: skip
    assert form.fields == [
        {"key": "email", "label": "E-mail", "required": True},
        {"key": "custom.budget", "label": "Budget, ₽", "required": False},
    ]
    assert form.allowed_origins == ["https://example.com", "https://shop.example.com"]
    assert len(form.token) >= 20 and form.active
    assert OutboxEvent.objects.filter(name="web_form.created", entity_id=form.pk).exists()
    assert AuditEntry.objects.filter(object_id=form.pk, action="create").exists()


def test_bad_form_settings_name_every_field(admin: Any) -> None:
    with pytest.raises(ServiceValidationError) as exc:
        web_form_create(actor=admin, data={
            "name": "", "redirect_url": "not a url", "consent_required": True, "colour": "red",
            "allowed_origins": ["ftp://x.org"],
            "fields": [{"key": "email"}, {"key": "email"}, {"key": "shoe_size"}, "x",
                       {"key": "phone", "required": "yes"}],
        })  # fmt: skip
    assert fields_of(exc) == {
        "name", "redirect_url", "consent_text", "colour", "allowed_origins[0]",
        "fields[1].key", "fields[2].key", "fields[3]", "fields[4].required",
    }  # fmt: skip
    assert WebForm.objects.count() == 0


def test_a_form_must_be_able_to_make_a_lead(admin: Any) -> None:
    with pytest.raises(ServiceValidationError) as exc:
        web_form_create(
            actor=admin, data={"name": "Only a message", "fields": [{"key": "message"}]}
        )
    assert "a lead needs one" in exc.value.detail
    with pytest.raises(ServiceValidationError) as exc:
        web_form_create(actor=admin, data={"name": "Empty", "fields": []})
    assert fields_of(exc) == {"fields"}


def test_a_custom_field_required_on_leads_must_be_required_on_the_form(admin: Any) -> None:
    from voronka.core.services import custom_field_create

    custom_field_create(entity="sales.lead", label="City", key="city", type="text", required=True)
    with pytest.raises(ServiceValidationError) as exc:
        web_form_create(actor=admin, data={"name": "F", "fields": [{"key": "email"}]})
    assert "“City” is required on every lead" in exc.value.detail
    form = web_form_create(actor=admin, data={
        "name": "F", "fields": [{"key": "email"}, {"key": "custom.city", "required": True}]})  # fmt: skip
    assert form.pk


def test_only_administrators_build_forms(alice: Any, web_form: Any) -> None:
    with pytest.raises(Forbidden):
        web_form_create(actor=alice, data={"name": "x", "fields": [{"key": "email"}]})
    with pytest.raises(Forbidden):
        web_form_update(actor=alice, form=web_form, changes={"active": False})
    with pytest.raises(Forbidden):
        web_form_delete(actor=alice, form=web_form)


def test_update_changes_only_what_is_given_and_delete_keeps_the_leads(
    admin: Any, web_form: Any
) -> None:
    web_form_update(actor=admin, form=web_form, changes={"active": False, "title": "New title"})
    web_form.refresh_from_db()
    assert (web_form.active, web_form.title, web_form.name) == (False, "New title", "Contact us")
    web_form_update(actor=admin, form=web_form, changes={"active": True})
    submission = form_submit(form=web_form, values={"first_name": "Ivan", "email": "i@x.ru"},
                             visit=Visit(ip="198.51.100.1"))  # fmt: skip
    web_form_delete(actor=admin, form=web_form)
    assert not FormSubmission.objects.exists()
    assert Lead.objects.filter(pk=submission.lead_id).exists()


# --- submissions -----------------------------------------------------------------------------


def test_a_submission_makes_a_lead_through_lead_create(
    admin: Any, alice: Any, web_form: Any
) -> None:
    AssignmentRule.objects.create(name="site", kind=AssignmentRuleKind.BY_SOURCE,
                                  match_value="website", user=alice)  # fmt: skip
    visit = Visit(ip="198.51.100.1", referrer="https://google.com/", page_url="https://ex.com/p",
                  user_agent="UA", utm={"utm_source": "google", "utm_campaign": "spring", "x": "y"})  # fmt: skip
    submission = form_submit(
        form=web_form,
        values={"first_name": " Иван ", "email": "IVAN@Example.com", "phone": "8 (916) 123-45-67",
                "message": "Call me", "unknown": "ignored"},
        visit=visit,
    )  # fmt: skip
    lead = submission.lead
    assert (lead.first_name, lead.email, lead.phone) == ("Иван", "ivan@example.com", "+79161234567")
    assert (lead.source, lead.utm_source, lead.utm_campaign) == ("website", "google", "spring")
    assert lead.message == "Call me"
    assert lead.owner == alice  # the assignment rule by source chose her
    assert submission.utm == {"utm_source": "google", "utm_campaign": "spring"}
    assert (submission.referrer, submission.page_url, submission.ip) == (
        "https://google.com/", "https://ex.com/p", "198.51.100.1")  # fmt: skip
    assert "unknown" not in submission.data
    names = list(OutboxEvent.objects.order_by("id").values_list("name", flat=True))
    assert names[-2:] == ["lead.created", "form.submitted"]
    event = OutboxEvent.objects.get(name="form.submitted")
    assert event.entity_id == web_form.pk and event.payload["lead_id"] == lead.pk


def test_custom_fields_consent_and_per_field_errors(
    admin: Any, make_form: Any, budget_field: Any, rows: Any
) -> None:
    form = make_form(fields=[{"key": "email", "required": True}, {"key": "custom.budget"}],
                     consent_required=True, consent_text="I agree")  # fmt: skip
    before = rows()
    with pytest.raises(ServiceValidationError) as exc:
        form_submit(form=form, values={"email": "", "custom.budget": "lots"}, visit=Visit())
    assert fields_of(exc) == {"email", "consent", "custom.budget"}
    with pytest.raises(ServiceValidationError) as exc:
        form_submit(form=form, values={"email": "nope", "custom.budget": "lots", "consent": "on"},
                    visit=Visit())  # fmt: skip
    assert fields_of(exc) == {"email", "custom.budget"}
    assert rows() == before
    submission = form_submit(form=form, values={"email": "a@b.ru", "custom.budget": "1 500",
                                                "consent": True}, visit=Visit())  # fmt: skip
    assert submission.lead.custom == {"budget": 1500}
    assert submission.data["consent"] == {"given": True, "text": "I agree"}


def test_the_honeypot_writes_nothing(web_form: Any, rows: Any) -> None:
    before = rows()
    with pytest.raises(SpamDetected):
        form_submit(form=web_form, values={"first_name": "Bot", "email": "b@x.ru",
                                           "website": "http://spam"}, visit=Visit(ip="1.2.3.4"))  # fmt: skip
    assert rows() == before


def test_the_rate_limit_counts_per_form_and_address(
    web_form: Any, make_form: Any, settings: Any
) -> None:
    settings.VORONKA_FORM_RATE_LIMIT = 3
    values = {"first_name": "A", "email": "a@x.ru"}
    for _ in range(3):
        form_submit(form=web_form, values=values, visit=Visit(ip="1.2.3.4"))
    with pytest.raises(RateLimited) as exc:
        form_submit(form=web_form, values=values, visit=Visit(ip="1.2.3.4"))
    assert 1 <= exc.value.retry_after <= 61
    # Another visitor, or another form, is not held back.
    form_submit(form=web_form, values=values, visit=Visit(ip="5.6.7.8"))
    form_submit(form=make_form(name="Other"), values=values, visit=Visit(ip="1.2.3.4"))
    assert Lead.objects.count() == 5


def test_nul_characters_are_refused_by_field(web_form: Any) -> None:
    with pytest.raises(ServiceValidationError) as exc:
        form_submit(form=web_form, values={"first_name": "A\x00", "email": "a@x.ru"}, visit=Visit())
    assert fields_of(exc) == {"first_name"}
    submission = form_submit(form=web_form, values={"first_name": "A", "email": "a@x.ru"},
                             visit=Visit(referrer="x\x00y", utm={"utm_source": "\x00g"}))  # fmt: skip
    assert (submission.referrer, submission.utm) == ("xy", {"utm_source": "g"})


# --- lead sources --------------------------------------------------------------------------------


def test_a_source_secret_is_kept_as_a_hash_and_rotates(admin: Any, make_source: Any) -> None:
    source, secret = make_source()
    assert secret.startswith("vks_") and secret not in source.secret_hash
    assert secret_matches(source, secret) and not secret_matches(source, secret + "x")
    assert not secret_matches(source, "")
    source, new_secret = lead_source_rotate_secret(actor=admin, source=source)
    assert secret_matches(source, new_secret) and not secret_matches(source, secret)
    assert source.secret_hint == new_secret[-4:]


def test_inbound_leads_are_idempotent_on_external_id(make_source: Any, budget_field: Any) -> None:
    source, _secret = make_source(source="tilda-landing")
    payload = {"external_id": 1001, "name": "Иван Петров", "phone": "+7 916 123-45-67",
               "budget": "250000", "color": "red", "answers": {"q1": "yes"}, "message": "Hi"}  # fmt: skip
    lead, created = inbound_lead_receive(source=source, payload=payload)
    assert created and lead is not None
    assert (lead.first_name, lead.phone, lead.source) == (
        "Иван Петров",
        "+79161234567",
        "tilda-landing",
    )
    assert lead.custom == {"budget": 250000}
    assert lead.message == 'Hi\n\ncolor: red\nanswers: {"q1": "yes"}'
    again, created_again = inbound_lead_receive(source=source, payload={**payload, "phone": "x"})
    assert (again, created_again) == (lead, False)
    assert Lead.objects.count() == 1
    # Without an external id every call is a new lead.
    inbound_lead_receive(source=source, payload={"email": "a@b.ru"})
    inbound_lead_receive(source=source, payload={"email": "a@b.ru"})
    assert Lead.objects.count() == 3
    assert InboundLead.objects.filter(source=source).count() == 3


def test_inbound_lead_errors_name_the_field_and_write_nothing(make_source: Any, rows: Any) -> None:
    source, _secret = make_source()
    before = rows()
    for payload, field in (
        (["a list"], "body"),
        ({"message": "no contact data"}, "last_name"),
        ({"email": "not an e-mail"}, "email"),
        ({"email": "a@b.ru", "phone": {"nested": 1}}, "phone"),
        ({"email": "a@b.ru", "external_id": ["x"]}, "external_id"),
        ({"email": "a@b.ru", "custom": {"nope": 1}}, "custom.nope"),
        ({"email": "a@b.ru\x00"}, "body"),
    ):
        with pytest.raises(ServiceValidationError) as exc:
            inbound_lead_receive(source=source, payload=payload)
        assert field in fields_of(exc), payload
    assert rows() == before


def test_exact_names_win_over_aliases(make_source: Any) -> None:
    source, _secret = make_source()
    lead, _created = inbound_lead_receive(source=source, payload={
        "name": "Full Name", "first_name": "Ivan", "company": "Romashka"})  # fmt: skip
    assert (lead.first_name, lead.company_name) == ("Ivan", "Romashka")
    assert lead.message == "name: Full Name"


def test_every_kind_of_custom_field(make_form: Any, settings: Any) -> None:
    from voronka.core.services import custom_field_create

    settings.TIME_ZONE = "Europe/Moscow"
    for key, kind, options in (("plan", "select", ["Basic", "Pro"]), ("topics", "multi_select", ["A", "B"]),
                               ("callback", "boolean", None), ("when", "datetime", None)):  # fmt: skip
        custom_field_create(entity="sales.lead", label=key, key=key, type=kind, options=options)
    form = make_form(fields=[{"key": "email", "required": True}, {"key": "custom.plan"},
                             {"key": "custom.topics", "required": True}, {"key": "custom.callback"},
                             {"key": "custom.when"}])  # fmt: skip
    with pytest.raises(ServiceValidationError) as exc:
        form_submit(form=form, values={"email": "a@b.ru", "custom.plan": "Gold", "custom.topics": []},
                    visit=Visit())  # fmt: skip
    assert fields_of(exc) == {"custom.plan", "custom.topics"}
    lead = form_submit(form=form, values={
        "email": "a@b.ru", "custom.plan": "Pro", "custom.topics": ["B", "A"], "custom.callback": "on",
        "custom.when": "2026-03-01T10:30"}, visit=Visit()).lead  # fmt: skip
    # Wall-clock time typed in a browser is the CRM's time zone (Moscow: UTC+3).
    assert lead.custom == {"plan": "Pro", "topics": ["A", "B"], "callback": True,
                           "when": "2026-03-01T07:30:00+00:00"}  # fmt: skip


def test_every_bad_input_is_reported_at_once(admin: Any, make_form: Any) -> None:
    form = make_form(fields=[{"key": "email", "required": True}, {"key": "inn"}, {"key": "phone"}])
    with pytest.raises(ServiceValidationError) as exc:
        form_submit(form=form, values={"email": "", "inn": "123", "phone": "000"}, visit=Visit())
    assert fields_of(exc) == {"email", "inn", "phone"}
    with pytest.raises(ServiceValidationError) as exc:
        web_form_create(actor=admin, data={"name": "F", "fields": [{"key": "email"}],
                                           "redirect_url": "example.com/" + "a" * 490})  # fmt: skip
    assert fields_of(exc) == {"redirect_url"}
