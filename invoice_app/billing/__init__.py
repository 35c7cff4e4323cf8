"""The Invoice Manager screen: the invoice table, its fragment and invoice details."""

from flask import Blueprint

bp = Blueprint("billing", __name__, url_prefix="/billing")

from . import (  # noqa: E402,F401  (routes register on import)
    actions,
    bulk,
    columns,
    downloads,
    drafts,
    exports,
    overview,
    saved,
    views,
    webhooks,
)
