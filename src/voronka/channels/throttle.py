"""A sliding-window limit on public endpoints, counted in the database (see RateLimitHit)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from voronka.channels.models import RateLimitHit

KEEP_HITS = dt.timedelta(hours=1)


class RateLimited(Exception):
    """Too many attempts from one address; ``retry_after`` seconds until the next is let in."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"rate limited, retry after {retry_after} s")


def throttle(bucket: str, *, limit: int, window: int = 60) -> None:
    """Count one attempt in ``bucket``, or raise RateLimited when ``limit`` attempts were
    already made in the last ``window`` seconds. Refused attempts are not counted, so a
    client that waits gets in again."""
    now = timezone.now()
    recent = RateLimitHit.objects.filter(
        bucket=bucket[:128], created_at__gt=now - dt.timedelta(seconds=window)
    )
    if limit <= 0 or recent.count() >= limit:
        oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
        elapsed = (now - oldest).total_seconds() if oldest else 0
        raise RateLimited(retry_after=max(1, int(window - elapsed) + 1))
    RateLimitHit.objects.create(bucket=bucket[:128])
    RateLimitHit.objects.filter(created_at__lt=now - KEEP_HITS).delete()
