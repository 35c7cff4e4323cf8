"""Quick search: an exact, case-folded substring test, narrowed by indexes.

An invoice matches when the needle is in its own fields (number, notes, line
descriptions) or in its client's (name, e-mail: Client.search_text). They are
case-folded copies, so the exact test is `LIKE '%needle%'` with the needle
folded the same way (Unicode-aware, unlike SQLite's ASCII-only LIKE folding)
and % and _ escaped. Clients are few and invoices many: half a client name
finds a few thousand clients, and their invoices come by client_id, not
through the trigram index (a needle spanning an invoice's field and its
client's, through a newline, no longer matches).

The invoice's number is searched in two parts (models.invoice_search_columns):
a needle the number starts with is a range of the b-tree on
Invoice.search_number; one found anywhere else in it is in Invoice.search_text,
which holds the number from its second character on, then the notes and lines.
Every number starts alike, so a trigram index holding whole numbers lists
nearly every invoice under the trigrams of `INV-2025`.

The LIKE alone reads every row; a trigram index finds the candidates first:

- PostgreSQL: the pg_trgm GIN indexes serve the LIKE itself, for 3+ characters.
- SQLite: the FTS5 trigram tables invoice_search and client_search are asked for
  the needle as one quoted phrase (so `"`, `NEAR(`, `*`, `OR` in user text are
  plain characters), and the LIKE then confirms each candidate.

Needles shorter than a trigram have no index to use: a literal position test
(instr, strpos) scans instead.
"""

from __future__ import annotations

import sys

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


def after_prefix(prefix: str) -> str | None:
    """The least string after every string starting with prefix (code point
    order), or None when no string is: the upper end of a prefix range."""
    while prefix:
        last = ord(prefix[-1])
        if last < sys.maxunicode:
            following = last + 1
            if 0xD800 <= following <= 0xDFFF:  # surrogates are no characters
                following = 0xE000
            return prefix[:-1] + chr(following)
        prefix = prefix[:-1]
    return None


def starts_with(column, prefix: str):
    """column (code point ordered) starts with prefix: one range of its index."""
    end = after_prefix(prefix)
    return column >= prefix if end is None else and_(column >= prefix, column < end)


def number_starts_with(text: str, search_number=Invoice.search_number):
    """WHERE clause: the invoice's number starts with text, ignoring case."""
    return starts_with(search_number, text.casefold())


def own_text_parts(text: str) -> list:
    """WHERE clauses, one per index, that the invoice's own fields contain text:
    its number starts with it, or the rest (search_text) holds it."""
    needle = text.casefold()
    candidates = _fts_candidates(invoice_search, Invoice.id, needle)
    return [
        number_starts_with(text),
        _contains(Invoice.search_text, needle, candidates),
    ]


def matching_clients(text: str) -> Select:
    """Ids of the clients whose name or e-mail contains text, ignoring case."""
    needle = text.casefold()
    candidates = _fts_candidates(client_search, Client.id, needle)
    return select(Client.id).where(_contains(Client.search_text, needle, candidates))


def search_parts(text: str) -> list:
    """WHERE clauses, one per index, whose union is search_predicate() (3+
    characters): a page of each can be read in order, from its index alone
    when the index carries the sort (queries._search_page_ids)."""
    return [
        *own_text_parts(text),
        Invoice.client_id.in_(matching_clients(text)),
    ]


def search_predicate(text: str):
    """WHERE clause: the invoice or its client contains text, ignoring case.

    With a trigram to look up, the parts are found through their indexes and
    united (as an OR, PostgreSQL would test every row of the list against
    each); without one, a single scan tests them all.
    """
    if len(text.casefold()) < TRIGRAM:
        return row_predicate(text)
    return Invoice.id.in_(
        union(*(select(Invoice.id).where(part) for part in search_parts(text)))
    )


def row_predicate(
    text: str,
    search_number=Invoice.search_number,
    search_text=Invoice.search_text,
    client_text=None,
):
    """search_predicate() tested on each row as it comes, with no invoice index.

    For walking a list in order until a page is full: when the text is common
    that reads a few rows, where the indexes would find every match first.
    search_number, search_text: the invoice's columns, or a subquery's.
    client_text: the client's search_text joined to each row, for a walk of a
    few thousand rows; without it each row's client is looked up in the set of
    matching clients, built once, which is cheaper over every row of a scan
    but, when most clients match (an e-mail domain), costs more than the walk.
    """
    needle = text.casefold()
    own = [number_starts_with(text, search_number), _contains(search_text, needle)]
    if client_text is not None:
        return or_(*own, _contains(client_text, needle))
    return or_(*own, Invoice.client_id.in_(matching_clients(text)))
