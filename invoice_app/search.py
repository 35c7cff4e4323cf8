"""Quick search: an exact, case-folded substring test, narrowed by a trigram index.

Invoice.search_text is a case-folded copy of every searchable field, so the
exact test is `search_text LIKE '%needle%'` with the needle folded the same way
(Unicode-aware, unlike SQLite's ASCII-only LIKE folding) and % and _ escaped.
That test alone reads every row; the trigram index finds the candidates first:

- PostgreSQL: the pg_trgm GIN index serves the LIKE itself, for 3+ characters.
- SQLite: the FTS5 trigram table invoice_search is asked for the needle as one
  quoted phrase (so `"`, `NEAR(`, `*`, `OR` in user text are plain characters),
  and the LIKE then confirms each candidate.

Needles shorter than a trigram have no index to use: a literal position test
(instr, strpos) scans instead.
"""

from __future__ import annotations

from sqlalchemy import and_, column, func, literal_column, select, table

from .extensions import db
from .models import Invoice

TRIGRAM = 3

# The FTS5 table of migration 0002 (SQLite only); its rowid is invoice.id.
invoice_search = table("invoice_search", column("rowid"))


def like_pattern(needle: str) -> str:
    """A LIKE pattern (escape character /) matching needle anywhere, literally."""
    escaped = needle.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def fts_phrase(needle: str) -> str:
    """needle as one FTS5 string: no operator, column filter or prefix inside."""
    return '"' + needle.replace('"', '""') + '"'


def search_predicate(text: str):
    """WHERE clause: the invoice's searchable text contains text, ignoring case."""
    needle = text.casefold()
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    if len(needle) < TRIGRAM:
        # No trigram to look up, so a scan. Not as LIKE: PostgreSQL's generic
        # plan for a prepared LIKE would read the whole trigram index instead.
        position = func.instr if sqlite else func.strpos
        return position(Invoice.search_text, needle) > 0
    # One bound pattern (not '%' || :q || '%'), so PostgreSQL plans the GIN index
    # for it even in a prepared statement.
    exact = Invoice.search_text.like(like_pattern(needle), escape="/")
    if not sqlite:
        return exact
    candidates = select(invoice_search.c.rowid).where(
        literal_column("invoice_search").op("MATCH")(fts_phrase(needle))
    )
    return and_(Invoice.id.in_(candidates), exact)
