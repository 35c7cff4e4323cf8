"""Hints for SQLite's planner, which keeps no histograms and sometimes needs telling."""

from __future__ import annotations

from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op


def unindexed(column):
    """SQLite's unary +: the same value, but no index is chosen for this term.

    PostgreSQL reads it as the same value too (unary plus of a number), and
    plans by its statistics as ever.
    """
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)
