"""Quick search: an exact, case-folded substring test, narrowed by a trigram index.

An invoice matches when the needle is in its own fields (number, notes, line
descriptions: Invoice.search_text) or in its client's (name, e-mail:
Client.search_text). Both are case-folded copies, so the exact test is
`search_text LIKE '%needle%'` with the needle folded the same way (Unicode-aware,
unlike SQLite's ASCII-only LIKE folding) and % and _ escaped. Clients are few
and invoices many: half a client name finds a few thousand clients, and their
invoices come by client_id, not through the trigram index (a needle spanning
an invoice's field and its client's, through a newline, no longer matches).

The LIKE alone reads every row; a trigram index finds the candidates first:

- PostgreSQL: the pg_trgm GIN indexes serve the LIKE itself, for 3+ characters.
- SQLite: the FTS5 trigram tables invoice_search and client_search are asked for
  the needle as one quoted phrase (so `"`, `NEAR(`, `*`, `OR` in user text are
  plain characters), and the LIKE then confirms each candidate.

Needles shorter than a trigram have no index to use: a literal position test
(instr, strpos) scans instead.
"""

from __future__ import annotations

from sqlalchemy import (
    Select,
    and_,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    union,
)

from .extensions import db
from .models import Client, Invoice

TRIGRAM = 3

# The FTS5 tables of migrations 0002 and 0006 (SQLite only); their rowids are
# invoice.id and client.id.
invoice_search = table("invoice_search", column("rowid"))
client_search = table("client_search", column("rowid"))


def like_pattern(needle: str) -> str:
    """A LIKE pattern (escape character /) matching needle anywhere, literally."""
    escaped = needle.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def fts_phrase(needle: str) -> str:
    """needle as one FTS5 string: no operator, column filter or prefix inside."""
    return '"' + needle.replace('"', '""') + '"'


def _contains(column, needle: str, candidates=None):
    """column (case-folded text) contains needle, literally."""
    if len(needle) < TRIGRAM:
        # No trigram to look up, so a scan. Not as LIKE: PostgreSQL's generic
        # plan for a prepared LIKE would read the whole trigram index instead.
        sqlite = db.session.get_bind().dialect.name == "sqlite"
        position = func.instr if sqlite else func.strpos
        return position(column, needle) > 0
    # One bound pattern (not '%' || :q || '%'), so PostgreSQL plans the GIN index
    # for it even in a prepared statement.
    exact = column.like(like_pattern(needle), escape="/")
    return exact if candidates is None else and_(candidates, exact)


def _fts_candidates(fts, key, needle: str):
    """SQLite: key is among the rows the FTS5 table fts finds for needle."""
    if len(needle) < TRIGRAM or db.session.get_bind().dialect.name != "sqlite":
        return None
    return key.in_(
        select(fts.c.rowid).where(
            literal_column(fts.name).op("MATCH")(fts_phrase(needle))
        )
    )


def own_text_predicate(text: str):
    """WHERE clause: the invoice's own fields (number, notes, lines) contain text."""
    needle = text.casefold()
    candidates = _fts_candidates(invoice_search, Invoice.id, needle)
    return _contains(Invoice.search_text, needle, candidates)


def matching_clients(text: str) -> Select:
    """Ids of the clients whose name or e-mail contains text, ignoring case."""
    needle = text.casefold()
    candidates = _fts_candidates(client_search, Client.id, needle)
    return select(Client.id).where(_contains(Client.search_text, needle, candidates))


def search_predicate(text: str):
    """WHERE clause: the invoice or its client contains text, ignoring case.

    With a trigram to look up, the two parts are found through their indexes
    and united (as an OR, PostgreSQL would test every row of the list against
    both); without one, a single scan tests both.
    """
    if len(text.casefold()) < TRIGRAM:
        return row_predicate(text)
    return Invoice.id.in_(
        union(
            select(Invoice.id).where(own_text_predicate(text)),
            select(Invoice.id).where(Invoice.client_id.in_(matching_clients(text))),
        )
    )


def row_predicate(text: str, search_text=Invoice.search_text, client_id=None):
    """search_predicate() tested on each row as it comes, with no invoice index.

    For walking a list in order until a page is full: when the text is common
    that reads a few rows, where the indexes would find every match first.
    search_text and client_id: the invoice's columns, or a subquery's.
    """
    client_id = Invoice.client_id if client_id is None else client_id
    return or_(
        _contains(search_text, text.casefold()),
        client_id.in_(matching_clients(text)),
    )
