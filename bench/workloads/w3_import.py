"""W3: import of a contact file — N rows (the scale, at most ``--import-rows``, 100,000 by
default), about 5 % of them duplicates of contacts already in the database.

Ours: the file goes the way a user's does: ``import_upload`` (kept, encoding and delimiter
detected, columns mapped by the suggestions), ``import_start`` with dedupe=skip as the
administrator, then ``import_run`` — the worker's task — to the end: every row read,
normalized (phones to E.164, e-mails), checked for duplicates, and the new contacts written
with their phones, e-mails, search text, audit entries and events, chunk by chunk with the
job's checkpoint. Rows/s over all of it.
Baseline: the same file loaded into a plain table: PostgreSQL ``COPY … FROM STDIN (FORMAT
csv)``; SQLite ``csv`` + ``executemany`` in one transaction. Its distinct new rows (e-mails no
contact has) must equal the contacts we created. A sample of the created contacts is re-derived
with the services' own functions. Afterwards the import is undone (timed as its own row), so
the dataset is as before for a later ``--reuse`` run; above 100,000 rows the undo is skipped
and the dataset marked used instead."""

from __future__ import annotations

import csv
import random
import time
from pathlib import Path

from django.conf import settings as django_settings

from bench.dataset import POSITIONS, RU_FEMALE, RU_MALE, RU_SURNAMES, DatasetInfo
from bench.workloads.common import IdsMismatch, RawSQL, Result, RssSampler, Settings, fresh_user

TARGET = "≥ 50,000 rows/s on PostgreSQL"
DUPLICATES = 0.05
UNDO_UP_TO = 100_000  # scale above which the import is not undone (see run)
COLUMNS = ["Фамилия", "Имя", "E-mail", "Телефон", "Компания", "Должность"]


def _existing_emails(raw: RawSQL, count: int, rng: random.Random, scale: int) -> list[str]:
    """E-mails of random existing contacts (as stored: lower-cased)."""
    found: list[str] = []
    while len(found) < count:
        ids = sorted({rng.randrange(1, scale + 1) for _ in range(max(count * 2, 10))})
        marks = raw.marks(ids)
        found += [
            r[0] for r in raw.fetch(
                f"SELECT min(email) FROM customers_contactemail WHERE contact_id IN ({marks})"
                " GROUP BY contact_id", ids,
            )
        ]  # fmt: skip
        found = list(dict.fromkeys(found))
    return found[:count]


def write_file(path: Path, raw: RawSQL, info: DatasetInfo, rows: int) -> int:
    """The CSV a user would bring (semicolons, UTF-8, phones as typed); its duplicate count."""
    rng = random.Random(33)
    duplicates = _existing_emails(raw, int(rows * DUPLICATES), rng, info.scale)
    where = set(rng.sample(range(rows), len(duplicates)))
    company_names = [r[0] for r in raw.fetch("SELECT name FROM customers_company LIMIT 500")]
    run = f"{time.time_ns() % 10**8}"
    dup_iter = iter(duplicates)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(COLUMNS)
        for i in range(rows):
            female = rng.random() < 0.5
            last = rng.choice(RU_SURNAMES) + ("а" if female and rng.random() < 0.8 else "")
            first = rng.choice(RU_FEMALE if female else RU_MALE)
            if i in where:
                email = next(dup_iter).upper() if rng.random() < 0.3 else next(dup_iter)
            else:
                email = f"W3.{run}.{i}@Import.Example"
            # +7 901 is no bench dataset's mobile code: the new phones are new.
            n = i % 10_000_000
            phone = f"8 (901) {n // 10000:03d}-{n // 100 % 100:02d}-{n % 100:02d}"
            company = rng.choice(company_names) if company_names and rng.random() < 0.5 else ""
            writer.writerow([last, first, email, phone, company, rng.choice(POSITIONS)])
    return len(duplicates)


def _baseline(raw: RawSQL, path: Path) -> tuple[float, int]:
    """Seconds to load the file into a plain table, and its distinct new rows."""
    cur = raw.raw.cursor()
    cur.execute("DROP TABLE IF EXISTS w3_plain")
    cur.execute(
        "CREATE TABLE w3_plain (last_name text, first_name text, email text, phone text,"
        " company text, position text)"
    )
    raw.raw.commit()
    t0 = time.perf_counter()
    if raw.postgres:
        with (
            raw.raw.cursor() as c,
            c.copy("COPY w3_plain FROM STDIN (FORMAT csv, DELIMITER ';', HEADER true)") as copy,
            path.open("rb") as f,
        ):
            while block := f.read(1 << 20):
                copy.write(block)
    else:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f, delimiter=";")
            next(reader)
            raw.raw.execute("BEGIN")
            raw.raw.executemany("INSERT INTO w3_plain VALUES (?, ?, ?, ?, ?, ?)", reader)
    raw.raw.commit()
    seconds = time.perf_counter() - t0
    new = raw.fetch(
        "SELECT count(DISTINCT lower(p.email)) FROM w3_plain p WHERE NOT EXISTS"
        " (SELECT 1 FROM customers_contactemail e WHERE e.email = lower(p.email))"
    )[0][0]
    cur = raw.raw.cursor()
    cur.execute("DROP TABLE w3_plain")
    raw.raw.commit()
    return seconds, int(new)


def _verify(job_id: int, sample: int = 200) -> list[str]:
    """Created contacts re-derived with the services' functions, as verify_sample does."""
    from voronka.core.text import normalize_email, normalize_phone
    from voronka.customers.models import Contact
    from voronka.customers.services import contact_search_text
    from voronka.imports.bulk import from_ranges
    from voronka.imports.models import ImportChunk

    ids: list[int] = []
    for created in ImportChunk.objects.filter(job_id=job_id).values_list("created_ids", flat=True):
        ids += from_ranges(created.get("customers.contact", []))
    picked = random.Random(5).sample(ids, min(sample, len(ids)))
    problems = []
    qs = Contact.objects.filter(pk__in=picked).select_related("company")
    for contact in qs.prefetch_related("emails", "phones"):
        emails = [e.email for e in contact.emails.all()]
        phones = [p.phone for p in contact.phones.all()]
        if contact.search_text != contact_search_text(contact, emails, phones):
            problems.append(f"contact {contact.pk}: search text differs")
        problems += [f"contact {contact.pk}: {p}" for p in phones if normalize_phone(p) != p]
        problems += [f"contact {contact.pk}: {e}" for e in emails if normalize_email(e) != e]
    return problems


def run(info: DatasetInfo, db: str, settings: Settings) -> list[Result]:
    from voronka.imports.runner import import_run, import_undo_run
    from voronka.imports.services import import_start, import_undo, import_upload

    raw = RawSQL()
    # A file of 100,000 rows by default, into a base of any scale: a million-row import takes
    # five minutes per database, and a 1M run must fit in twenty (--import-rows 1m for it).
    rows = min(info.scale, settings.import_rows)
    admin = fresh_user(info.admin_id)
    folder = Path(django_settings.DATA_DIR) / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"w3-{rows}.csv"
    duplicates = write_file(path, raw, info, rows)
    base_s, expected_new = _baseline(raw, path)

    with RssSampler() as memory:
        t0 = time.perf_counter()
        job = import_upload(actor=admin, entity="contacts", file_name=path.name, content=path)
        import_start(actor=admin, job=job, dedupe="skip")
        outcome = import_run(job.pk)
        ours_s = time.perf_counter() - t0
    job.refresh_from_db()
    if outcome != "done":
        raise RuntimeError(f"the import ended {outcome!r}: {job.error}")
    if job.created != expected_new:
        raise IdsMismatch(
            f"W3 on {db}: created {job.created} contacts, the file has {expected_new} new rows"
            f" ({job.skipped} skipped, {job.rejected} rejected)"
        )
    problems = _verify(job.pk)
    if problems:
        raise IdsMismatch(f"W3 on {db}: imported rows differ from the services': {problems[:3]}")
    ours_rate, base_rate = rows / ours_s, rows / base_s
    results = [Result(
        workload="W3", case=f"import {rows:,} contacts (CSV, dedupe skip)", db=db,
        user="administrator", metric="rate",
        ours={"rows_per_s": ours_rate, "seconds": ours_s, "created": float(job.created),
              "skipped": float(job.skipped), "rejected": float(job.rejected),
              "peak_rss_mb": memory.peak_mb},
        baseline={"rows_per_s": base_rate, "seconds": base_s},
        ratio=base_rate / ours_rate if ours_rate else None, rows=rows, target=TARGET,
        passed=ours_rate >= 50_000 if db == "postgres" else None, ids_match=True,
        note=f"{duplicates:,} duplicates of existing contacts skipped; ratio = plain-table load"
             " rate ÷ our rate",
    )]  # fmt: skip

    path.unlink(missing_ok=True)
    if info.scale > UNDO_UP_TO:
        # Undoing a million contacts takes minutes and is not a workload of the issue: the
        # dataset is marked used instead, so a later --reuse builds a fresh one.
        cur = raw.raw.cursor()
        cur.execute("DELETE FROM bench_meta")
        raw.raw.commit()
        cur.close()
        return results
    t0 = time.perf_counter()
    import_undo(actor=admin, job=job)
    undo_outcome = import_undo_run(job.pk)
    undo_s = time.perf_counter() - t0
    job.refresh_from_db()
    results.append(Result(
        workload="W3", case="undo of that import", db=db, user="administrator", metric="rate",
        ours={"rows_per_s": job.created / undo_s if undo_s else 0.0, "seconds": undo_s},
        rows=job.created, status="measured" if undo_outcome == "undone" else "error",
        note="deletes what the import created (no baseline)",
    ))  # fmt: skip
    if raw.postgres:
        # Outside the timing. The dev server runs with autovacuum off: without this every
        # --reuse run left W3's deleted rows behind (1.2M dead rows after ~30 runs of 10k: the
        # dedupe lookups turned into sequential scans, the server's CPU per row grew by half).
        cur = raw.raw.cursor()
        cur.execute(
            "VACUUM ANALYZE customers_contact, customers_contactemail, customers_contactphone,"
            " customers_contact_tags"
        )
        cur.close()
    return results


__all__ = ["run", "write_file"]
