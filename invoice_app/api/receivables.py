"""GET /api/receivables: what is owed as of a day, per currency and aging bucket."""

from __future__ import annotations

from flask import request
from flask_login import login_required

from ..clock import today
from ..filters import parse_as_of
from ..money import to_places
from ..receivables import BUCKETS, aging
from . import bp, schemas
from .contract import declare
from .views import json_answer


def _amount(value, currency: str) -> str:
    return str(to_places(value, currency))


@bp.get("/receivables")
@declare(ok=schemas.Receivables, query=schemas.ReceivablesQuery, tags=("receivables",))
@login_required
def receivables():
    """Outstanding, overdue and the five aging buckets per currency, on as_of."""
    day = parse_as_of(request.args, today())
    return json_answer(
        schemas.Receivables(
            as_of=day,
            currencies=[
                schemas.CurrencyReceivables(
                    currency=a.currency,
                    outstanding=_amount(a.outstanding.amount, a.currency),
                    outstanding_count=a.outstanding.count,
                    overdue=_amount(a.overdue.amount, a.currency),
                    overdue_count=a.overdue.count,
                    buckets={
                        b: schemas.Bucket(
                            amount=_amount(a.buckets[b].amount, a.currency),
                            count=a.buckets[b].count,
                        )
                        for b in BUCKETS
                    },
                )
                for a in aging(day)
            ],
        )
    )
