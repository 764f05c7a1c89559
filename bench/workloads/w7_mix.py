"""W7: many people using the CRM at once, at growing concurrency.

Each virtual user is a real user of the dataset with a session cookie (and an API key for
edits) and loops without think time over: the contact list (40 %), the search page (25 %),
a contact card it may see (25 %) and an edit through ``PATCH /api/v1/contacts/<id>`` (10 %).
Concurrency doubles (1, 2, 4, …) until p95 reaches 500 ms or a request fails; the answer is
the most concurrent users held with p95 < 500 ms and no errors. There is no raw-SQL baseline
for a mix of pages: it is a capacity figure."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.test import Client

from bench.dataset import DatasetInfo
from bench.workloads import http
from bench.workloads.common import Result, RssSampler, Settings, percentiles

P95_LIMIT_MS = 500.0
TARGET = "p95 < 500 ms, no errors"


class VirtualUser:
    def __init__(self, user: Any, visible_ids: list[int], terms: list[str]) -> None:
        from voronka.accounts.services import apikey_create

        client = Client()
        client.force_login(user)
        self.cookie = f"sessionid={client.cookies['sessionid'].value}"
        _key, secret = apikey_create(user=user, name="bench W7")
        self.api = {"Authorization": f"Bearer {secret}"}
        self.ids = visible_ids
        self.terms = terms


def _virtual_users(info: DatasetInfo, count: int) -> list[VirtualUser]:
    from voronka.accounts.models import User
    from voronka.customers.models import Contact

    users = list(
        User.objects.select_related("role", "team")
        .filter(pk__in=info.owner_ids)
        .order_by("id")[: count - 1]
    )
    users.append(User.objects.select_related("role", "team").get(pk=info.admin_id))
    terms = [info.name_fragment, info.email_fragment, info.phone_typed, "ооо", "smith"]
    result = []
    for user in users:
        ids = list(
            Contact.objects.visible_to(user).order_by("id").values_list("id", flat=True)[:200]
        )
        result.append(VirtualUser(user, ids, terms))
    return result


def run(info: DatasetInfo, db: str, settings: Settings, workdir: Path) -> list[Result]:
    vusers = _virtual_users(info, 20)
    rng = random.Random(11)
    results: list[Result] = []
    with http.Server(settings.port, workdir / f"server-mix-{db}.log") as server:
        probe_user = vusers[0]
        for path in ("/customers/contacts/", f"/customers/contacts/{probe_user.ids[0]}/"):
            status, _body, _ms = http.request(
                server.port, "GET", path, headers={"Cookie": probe_user.cookie}
            )
            if status == 404:
                return [Result(workload="W7", case="mixed users", db=db, status="not available",
                               note=f"GET {path} answered 404: the UI is not built yet")]  # fmt: skip

        def step(conn: Any, index: int, n: int) -> tuple[str, int, bytes, float]:
            vu = vusers[index % len(vusers)]
            roll = rng.random()
            cookie = {"Cookie": vu.cookie}
            if roll < 0.40:
                path = "/customers/contacts/" + rng.choice(["", "?sort=-created_at", "?tag=VIP"])
                return ("list", *http.request(server.port, "GET", path, None, cookie, conn))
            if roll < 0.65:
                path = "/search/?q=" + quote(rng.choice(vu.terms))
                return ("search", *http.request(server.port, "GET", path, None, cookie, conn))
            contact_id = rng.choice(vu.ids)
            if roll < 0.90:
                path = f"/customers/contacts/{contact_id}/"
                return ("card", *http.request(server.port, "GET", path, None, cookie, conn))
            body = {"position": rng.choice(["Закупщик", "Директор", "Инженер", "Юрист"])}
            path = f"/api/v1/contacts/{contact_id}"
            return ("edit", *http.request(server.port, "PATCH", path, body, vu.api, conn))

        held = 0
        for level in settings.mix_levels:
            with RssSampler(server.pid) as mem:
                load = http.run_load(server.port, level, level * 2000, settings.mix_seconds, step)
            ours = percentiles([ms / 1000 for ms in load.latencies_ms])
            ours["per_s"] = load.rate
            ours["errors"] = float(load.errors)
            for kind, values in sorted(load.by_kind.items()):
                ours[f"{kind}_p95"] = percentiles([v / 1000 for v in values])["p95"]
            ok = load.errors == 0 and ours.get("p95", 1e9) < P95_LIMIT_MS
            results.append(Result(
                workload="W7", case=f"{level} concurrent users", db=db, user="reps + admin",
                metric="latency", ours=ours, rows=load.count, peak_kb=mem.peak_mb * 1024,
                target=TARGET, passed=ok,
                note="; ".join(load.error_samples) + " memory = the server's peak private RSS",
            ))  # fmt: skip
            if not ok:
                break
            held = level
        results.append(Result(
            workload="W7", case="most concurrent users held", db=db, metric="capacity",
            ours={"users": float(held)}, target=TARGET, passed=held > 0,
            note="without think time: each virtual user sends its next request at once",
        ))  # fmt: skip
    return results
