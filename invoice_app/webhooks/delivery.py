"""Sending webhooks: at least once, retried with backoff, given up after ~3 days.

A delivery is claimed before it is sent (its next attempt moved a lease
ahead, by a conditional UPDATE), so two workers never send the same attempt
and no transaction stays open during the call. Each attempt carries the
event's webhook-id, so a receiver can drop a repeat. A 2xx answer is success;
anything else, or no answer within TIMEOUT, schedules the next attempt at
RETRY_AFTER's next step; after the last one the delivery is failed for good
(a billing admin can redeliver it).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import select, update

from ..database import begin_write
from ..extensions import db
from ..models import WebhookDelivery, utcnow
from . import signing, urls
from .events import DELIVERIES_WAITING
from .transport import webhook_session

TIMEOUT = 10
# After attempt n fails, wait RETRY_AFTER[n - 1]; 5 s first, about 72 h in all.
RETRY_AFTER = tuple(
    timedelta(seconds=s)
    for s in (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 72000)
)
# How long a claimed attempt may take before another worker may try it.
LEASE = timedelta(seconds=TIMEOUT * 3)
BATCH = 50
# How often the worker's periodic sweep sends what is due (jobs/tasks.py).
SWEEP_EVERY = timedelta(minutes=1)
# One HTTP session per worker thread: connections to an endpoint are kept
# alive between its deliveries (a requests.Session is not for sharing).
_local = threading.local()


def _http() -> requests.Session:
    allow_private = current_app.config["WEBHOOK_ALLOW_PRIVATE"]
    if getattr(_local, "allow_private", None) is not allow_private:
        _local.session = webhook_session(allow_private)
        _local.allow_private = allow_private
    return _local.session


def due(now: datetime | None = None, limit: int = BATCH) -> list[int]:
    """Ids of pending deliveries whose next attempt is due."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.state == "pending",
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
        )
    )


def deliver_due(now: datetime | None = None) -> int:
    """Attempt every due delivery once; how many were attempted."""
    attempted = 0
    for delivery_id in due(now):
        attempted += attempt(delivery_id, now)
    return attempted


def _claim(delivery_id: int, now: datetime) -> WebhookDelivery | None:
    begin_write()
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.state != "pending":
        return None
    seen = delivery.next_attempt_at
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.state == "pending",
            WebhookDelivery.next_attempt_at == seen,
        )
        .values(next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not claimed:
        return None  # another worker has it
    db.session.refresh(delivery)
    return delivery


def attempt(delivery_id: int, now: datetime | None = None) -> bool:
    """Send one delivery now, if it is still pending and nobody else is; True if
    it was attempted."""
    now = now or utcnow()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return False
    endpoint, event = delivery.endpoint, delivery.event
    body = event.payload.encode()
    status, error, wait = None, "", None
    try:
        urls.check(endpoint.url)
        answer = _http().post(
            endpoint.url,
            data=body,
            headers=signing.headers(
                endpoint.secret, event.id, int(now.timestamp()), body
            ),
            timeout=TIMEOUT,
            # A redirect could lead anywhere, a private address too: not followed.
            allow_redirects=False,
        )
        status = answer.status_code
        if not 200 <= status < 300:
            error = f"answered {status}"
    except urls.UnsafeUrl as unsafe:
        error = str(unsafe)
    except requests.RequestException as failure:
        error = f"no answer: {type(failure).__name__}"
    begin_write()  # the answer is written after the call, never during it
    delivery = db.session.get(WebhookDelivery, delivery_id)
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status = status
    delivery.last_error = error[:500]
    if not error:
        delivery.state, delivery.next_attempt_at = "succeeded", None
    elif delivery.attempts > len(RETRY_AFTER):
        delivery.state, delivery.next_attempt_at = "failed", None
    else:
        wait = RETRY_AFTER[delivery.attempts - 1]
        delivery.next_attempt_at = now + wait
    db.session.commit()
    if wait is not None and wait < SWEEP_EVERY:
        # Sooner than the minute's sweep would: a task of its own, on time.
        from ..jobs import enqueue

        enqueue("deliver_webhooks", delay=wait.total_seconds())
    return True


def redeliver(delivery: WebhookDelivery) -> None:
    """Send a delivery again at once (same webhook-id), whatever its state."""
    delivery.state = "pending"
    delivery.next_attempt_at = utcnow()
    db.session.info[DELIVERIES_WAITING] = True
    db.session.commit()
