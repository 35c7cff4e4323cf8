"""Every invoice list starts here: invoice_query(filters) and its companions.

At a million invoices (measured in benchmarks/README.md):
- a page selects only ids over a sort index, then joins the rows of that page
  (a deferred join), so deep pages skip index entries, not whole rows;
- the status counts and totals of a list without a search come from
  invoice_tally, which database triggers keep exact on every write, per tenant;
- every statement is confined to the user's tenant by tenancy.py, and the
  sort indexes start with tenant_id;
- quick search is narrowed by a trigram index first (search.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    func,
    literal,
    not_,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from .extensions import db
from .filters import InvoiceFilters
from .models import Client, Invoice, Status
from .money import ScaledDecimal
from .receivables import bucket_predicate
from .search import (
    TRIGRAM,
    matching_clients,
    own_text_parts,
    row_predicate,
    search_parts,
    search_predicate,
)
from .sqlite_hints import unindexed
from .tenancy import SCANS_TENANT, confine, tally_criteria
from .tenancy import current as current_scope

# Counts and sums of invoices per (tenant, status, currency, period, due date,
# issue date), maintained by triggers on invoice (migrations 0002, 0007). The
# app only reads it, so it lives outside the models' metadata.
invoice_tally = Table(
    "invoice_tally",
    MetaData(),
    Column("tenant_id", Integer),
    Column("status", String(10)),
    Column("currency", String(3)),
    Column("billing_period", Date),
    Column("due_date", Date),
    Column("issue_date", Date),
    Column("invoices", BigInteger),
    Column("usage_cost", ScaledDecimal()),
    Column("payable", ScaledDecimal()),
)


def _effective_status(source, today: date):
    return case(
        (
            and_(source.status == Status.DUE.value, source.due_date < today),
            literal(Status.OVER_DUE.value),
        ),
        else_=source.status,
    )


def effective_status(today: date):
    """SQL for the status users see: DUE past its due date reads as OVER_DUE."""
    return _effective_status(Invoice, today)


def status_predicate(status: str, today: date, source=Invoice):
    """A WHERE clause for one effective status that can use the status index."""
    if status == Status.DUE:
        return and_(source.status == Status.DUE.value, source.due_date >= today)
    if status == Status.OVER_DUE:
        return or_(
            source.status == Status.OVER_DUE.value,
            and_(source.status == Status.DUE.value, source.due_date < today),
        )
    return source.status == status


# The filter builders take a `source`: Invoice, invoice_tally.c or _WALK, any
# object with the filtered columns (status, due_date, billing_period, ...).


def _date_predicates(filters: InvoiceFilters, source) -> list:
    column = {
        "period": source.billing_period,
        "due": source.due_date,
        "issued": source.issue_date,
    }[filters.date_field]
    start, end = filters.date_from, filters.date_to
    if filters.date_field == "period":
        # A billing period is a month: it matches when that month is in the range.
        start = start.replace(day=1) if start else None
        end = end.replace(day=1) if end else None
    predicates = []
    if start:
        predicates.append(column >= start)
    if end:
        predicates.append(column <= end)
    return predicates


def _where(
    filters: InvoiceFilters,
    today: date,
    *,
    with_status: bool = True,
    with_search: bool = True,
    source=Invoice,
) -> list:
    where = _date_predicates(filters, source)
    # Only Invoice has these (needs_rows keeps the tally and the walk away).
    if filters.aging:
        where.append(bucket_predicate(filters.aging, today))
    if filters.client:
        where.append(client_predicate(filters.client))
    if filters.currency:
        where.append(source.currency == filters.currency)
    if filters.q and with_search:
        where.append(search_predicate(filters.q))
    if with_status and filters.status != "ALL":
        where.append(status_predicate(filters.status, today, source))
    return where


def client_predicate(email: str):
    """Invoices of the client with this e-mail (exact, ignoring case)."""
    return Invoice.client_id.in_(
        select(Client.id).where(func.lower(Client.email) == email.lower())
    )


def _sort_column(filters: InvoiceFilters, today: date):
    return {
        "number": Invoice.number,
        "client": Client.name,
        "period": Invoice.billing_period,
        "usage_cost": Invoice.usage_cost,
        "payable": Invoice.payable,
        "issue_date": Invoice.issue_date,
        "due_date": Invoice.due_date,
        "status": effective_status(today),
    }[filters.sort_key]


def _order_by(
    filters: InvoiceFilters, today: date, *, unindexed=False, column=None, tie=None
) -> list:
    column = _sort_column(filters, today) if column is None else column
    tie = Invoice.id if tie is None else tie
    if unindexed:
        # The same order, but no index can deliver it: the rows are sorted.
        column, tie = func.coalesce(column, column), func.coalesce(tie, tie)
    if filters.sort_descending:
        return [column.desc(), tie.desc()]
    return [column.asc(), tie.asc()]


def _rows(today: date) -> Select:
    return select(
        Invoice, Client, effective_status(today).label("effective_status")
    ).join(Client, Invoice.client_id == Client.id)


def invoice_query(filters: InvoiceFilters, today: date) -> Select:
    """Invoices (with client and effective status) matching filters, in sort order."""
    return (
        _rows(today).where(*_where(filters, today)).order_by(*_order_by(filters, today))
    )


def invoice_row(number: str, today: date):
    """One invoice as the list shows it (with client and effective status), or None."""
    return db.session.execute(_rows(today).where(Invoice.number == number)).first()


def export_rows(stmt: Select, columns: tuple[str, ...] = ()) -> Select:
    """An invoice_query() statement as flat columns, for exports of many rows.

    Plain tuples skip building an Invoice and a Client object per row, which
    was a tenth of a 100,000-row XLSX export's time. The optional columns
    (columns.py) that need more than these fields add theirs.
    """
    extra = []
    if "balance_due" in columns:
        extra.append(Invoice.amount_paid)
    if "notes" in columns:
        extra.append(Invoice.notes)
    return stmt.with_only_columns(
        Invoice.number,
        Client.name.label("client_name"),
        Client.email.label("client_email"),
        Invoice.billing_period,
        Invoice.currency,
        Invoice.usage_cost,
        Invoice.payable,
        Invoice.issue_date,
        Invoice.due_date,
        stmt.selected_columns.effective_status,
        Invoice.paid_date,
        *extra,
    )


# Rows fetched from the database per round trip while an export reads a list.
STREAM_BATCH = 1000


def streamed_rows(stmt: Select) -> Iterator:
    """stmt's rows, read in batches on a connection of their own.

    A streamed download is sent after its view has returned, and by then the
    request's session has been closed (and, on PostgreSQL, the server-side
    cursor with its transaction); a background export writes its progress
    through the session while it reads. So the rows come from a connection that
    only this reader uses, opened when the first row is wanted and closed when
    the reader ends or is abandoned.
    """
    # Not through the Session, so not confined by its hook: confined here.
    stmt = confine(stmt)
    with (
        db.engine.connect() as connection,
        # Closed here too when the reader stops early (a cancelled export): on
        # PostgreSQL it is a server-side cursor.
        connection.execute(stmt.execution_options(yield_per=STREAM_BATCH)) as rows,
    ):
        yield from rows


def selection_query(numbers, filters: InvoiceFilters, today: date) -> Select:
    """The invoices numbered numbers (ticked rows) in the order of filters' sort.

    Taken by number alone, not under the other filters: a ticked row whose
    status changed since it was seen is still in the selection. The scope
    applies as to every query: a number outside it is not there.
    """
    stmt = invoice_query(InvoiceFilters(sort=filters.sort), today)
    return stmt.where(Invoice.number.in_(list(numbers)))


def streamed_entity_rows(stmt: Select) -> Iterator:
    """stmt's rows with their Invoice and Client objects, read in batches.

    Like streamed_rows(), on a connection of its own, through a Session of its
    own (confined by the scope hook like any Session) for the renderers that
    read objects (the list PDF). The Session holds its objects weakly, so
    those of rows already passed on are freed.
    """
    with (
        db.engine.connect() as connection,
        Session(bind=connection) as session,
        # Closed here too when the reader stops early (a cancelled export): on
        # PostgreSQL it is a server-side cursor.
        session.execute(stmt.execution_options(yield_per=STREAM_BATCH)) as rows,
    ):
        yield from rows


def _page_ids(filters: InvoiceFilters, today: date) -> Select:
    """The ids of the list, in order, the fast way (no limit yet)."""
    if filters.q and len(filters.q.casefold()) >= TRIGRAM:
        return _search_page_ids(filters, today)
    source = _WALK if _walk_period_index(filters, today) else Invoice
    # A 1–2 character search reads every row anyway (no trigram to look up);
    # sorting its matches beats walking an index in order and fetching rows at
    # random until a page is full, which takes seconds when the text is rare.
    short_search = bool(filters.q)  # 1–2 characters: longer ones went above
    ids = select(Invoice.id).where(*_where(filters, today, source=source))
    ids = ids.order_by(*_order_by(filters, today, unindexed=short_search))
    return _joined_for_sort(filters, ids)


def _joined_for_sort(filters: InvoiceFilters, stmt: Select) -> Select:
    if filters.sort_key == "client":
        return stmt.join(Client, Invoice.client_id == Client.id)
    return stmt


def _search_page_ids(filters: InvoiceFilters, today: date) -> Select:
    """A search's ids up to the end of the page, in order: the union of each
    part's own first rows (search.search_parts()), sorted.

    Uniting every match first and sorting the union reads each match's row for
    its sort key: forty thousand for a month's numbers. Apart, the part the
    numbers' index finds reads its period from the index; the others are read
    as before. A part's sort is forced (unindexed) because PostgreSQL, which
    cannot tell the numbers of one month from numbers spread over the list,
    would walk the period index backwards through 700,000 rows to fill a page.
    """
    end = filters.page * filters.per_page
    where = _where(filters, today, with_search=False)
    sort_key = _sort_column(filters, today)
    parts = []
    for part in search_parts(filters.q):
        first = (
            select(Invoice.id, sort_key.label("sort_key"))
            .where(*where, part)
            .order_by(*_order_by(filters, today, unindexed=True))
            .limit(end)
        )
        # Wrapped, because SQLite takes no ORDER BY or LIMIT in a compound's parts.
        parts.append(select(_joined_for_sort(filters, first).subquery()))
    united = union(*parts).subquery("matches")
    return select(united.c.id).order_by(
        *_order_by(filters, today, column=united.c.sort_key, tie=united.c.id)
    )


def _page_rows(filters: InvoiceFilters, today: date, ids: Select) -> Select:
    # Deferred join: OFFSET skips entries of a covering index (ids only); just
    # the page's rows are then read in full.
    ids = ids.limit(filters.per_page).offset((filters.page - 1) * filters.per_page)
    page = ids.subquery("page")
    return (
        _rows(today)
        .join(page, Invoice.id == page.c.id)
        .order_by(*_order_by(filters, today))
    )


def page_query(filters: InvoiceFilters, today: date) -> Select:
    """invoice_query() rows of filters.page only, fetched the fast way."""
    return _page_rows(filters, today, _page_ids(filters, today))


def walked_page_query(filters: InvoiceFilters, today: date, budget: int) -> Select:
    """A search's page found by walking the unsearched list in order.

    Only the list's first `budget` rows are tested (row_predicate()), so the
    answer is the page itself only when it is full; else page_query() must be
    asked. A text in one invoice of ten fills a page of 25 from 250 rows,
    where the trigram index would first find a hundred thousand matches.
    """
    # The walked rows carry what the search tests and the sort key: tested
    # outside the LIMIT, nothing is pushed below it, and PostgreSQL cannot turn
    # the walk into a hash join over every invoice.
    # Each walked row brings its client's text too (a primary key lookup),
    # so the walk never builds the set of matching clients.
    client = aliased(Client)
    walked = (
        _page_ids(filters.with_(q=""), today)
        .join(client, Invoice.client_id == client.id)
        .add_columns(
            Invoice.search_number,
            Invoice.search_text,
            client.search_text.label("client_text"),
            _sort_column(filters, today).label("sort_key"),
        )
        .limit(budget)
        .subquery("walk")
    )
    ids = (
        select(walked.c.id)
        .where(
            row_predicate(
                filters.q,
                walked.c.search_number,
                walked.c.search_text,
                walked.c.client_text,
            )
        )
        .order_by(*_order_by(filters, today, column=walked.c.sort_key, tie=walked.c.id))
    )
    return _page_rows(filters, today, ids)


# Rows of the list a search page may walk before asking the indexes instead:
# this many, or this many times the rows up to the end of the page.
WALK_MIN, WALK_PER_ROW, WALK_MAX = 2_000, 40, 50_000


def page_budget(filters: InvoiceFilters) -> int:
    """How many rows of the list a search page walks before asking the indexes."""
    end = filters.page * filters.per_page
    return min(max(WALK_MIN, WALK_PER_ROW * end), WALK_MAX)


def page_of(filters: InvoiceFilters, today: date) -> list:
    """One page of invoice_query() rows."""
    if filters.q:
        walk = walked_page_query(filters, today, page_budget(filters))
        rows = db.session.execute(walk).all()
        if len(rows) == filters.per_page:
            return rows
    return db.session.execute(_scanning(filters, page_query(filters, today))).all()


def _scanning(filters: InvoiceFilters, stmt):
    """stmt, told that it reads every invoice of the tenant (a 1–2 character
    search): on SQLite its tenant test must then not take an index, whose
    row-by-row lookups cost about four times a plain scan (benchmarks/)."""
    short_search = bool(filters.q) and len(filters.q.casefold()) < TRIGRAM
    if short_search and db.session.get_bind().dialect.name == "sqlite":
        return stmt.execution_options(**SCANS_TENANT)
    return stmt


# Filter columns for walking ix_invoice_billing_period, which carries them all.
_WALK = SimpleNamespace(
    billing_period=Invoice.billing_period,
    status=unindexed(Invoice.status),
    due_date=unindexed(Invoice.due_date),
    issue_date=unindexed(Invoice.issue_date),
)


def _walk_period_index(filters: InvoiceFilters, today: date) -> bool:
    """SQLite: should this list in period order walk the period index?

    SQLite keeps no histograms: for OVER_DUE (an OR) or a due or issue date
    range it takes the filter's index and sorts every match, quick for a few
    thousand, slow for the ninety thousand OVER_DUE invoices of a million. The
    tally knows, per billing period, how many invoices there are and how many
    match, so the cost of either plan is known: the walk reads every index entry
    down to the period where the page ends, the sort reads every match.
    """
    if (
        filters.sort_key != "period"
        or filters.q
        or filters.needs_rows
        or filters.currency  # not in the period index: no walk
        or db.session.get_bind().dialect.name != "sqlite"
    ):
        return False
    dated = filters.date_field != "period" and (filters.date_from or filters.date_to)
    if not (dated or filters.status == Status.OVER_DUE):
        return False  # ix_invoice_status_period or the period index, in order
    scope = current_scope()
    if scope is not None and scope.limited_to_clients:
        return False  # a few clients' invoices: the client index, sorted
    t = invoice_tally.c
    period_range = (
        _date_predicates(filters, t) if filters.date_field == "period" else []
    )
    period_range += tally_criteria(t)
    matching = case((and_(*_where(filters, today, source=t)), t.invoices), else_=0)
    periods = db.session.execute(
        select(func.sum(t.invoices), func.sum(matching))
        .where(*period_range)
        .group_by(t.billing_period)
        .order_by(
            t.billing_period.desc() if filters.sort_descending else t.billing_period
        )
    ).all()
    wanted = filters.page * filters.per_page
    walked = found = 0
    for invoices, matches in periods:
        if found < wanted:
            walked += invoices
            found += matches
    # Reading an index entry is cheaper than sorting a match: a little slack.
    return walked <= 3 * sum(matches for _, matches in periods)


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    count: int
    usage_cost: Decimal
    payable: Decimal


@dataclass(frozen=True)
class Summary:
    """What the status drop-down and the totals line show for a list."""

    counts: dict[str, int]  # per effective status under the other filters, and ALL
    totals: list[CurrencyTotal]  # per currency of the list itself (never mixed)


def _groups(filters: InvoiceFilters, today: date) -> Select:
    """Count and sums per effective status and currency, every filter but status.

    A group may come thrice (summary() adds them up): a search is counted in
    disjoint parts, each read its cheapest way. The invoices of the clients it
    names come from ix_invoice_client_id alone (which carries every column used
    here); of the others, those whose number starts with it through
    ix_invoice_search_number, the rest through the trigram index.
    """
    scope = current_scope()
    if filters.q:
        source, count = Invoice, func.count()
        clients = Invoice.client_id.in_(matching_clients(filters.q))
        number, own_text = own_text_parts(filters.q)
        parts = [
            [clients],
            [number, not_(clients)],
            [own_text, not_(number), not_(clients)],
        ]
    elif (scope is not None and scope.limited_to_clients) or filters.needs_rows:
        # The tally knows tenants, not clients nor ages: a user limited to some
        # clients, or a list of one client or age, is counted from the rows.
        source, count = Invoice, func.count()
        parts = [[]]
    else:
        source, count = invoice_tally.c, func.sum(invoice_tally.c.invoices)
        parts = [tally_criteria(invoice_tally.c)]
    status = _effective_status(source, today)
    where = _where(filters, today, with_status=False, with_search=False, source=source)
    selects = [
        select(
            status,
            source.currency,
            count,
            # sum() keeps the column type: the scaled integers come back Decimal.
            func.sum(source.usage_cost),
            func.sum(source.payable),
        )
        .where(*where, *part)
        .group_by(status, source.currency)
        for part in parts
    ]
    return selects[0] if len(selects) == 1 else union_all(*selects)


def summary(filters: InvoiceFilters, today: date) -> Summary:
    """Status counts and currency totals from grouped queries (_groups()).

    Grouped by effective status and currency over every filter but the status:
    the counts add up the statuses, the totals keep the status asked for. Without
    a search the groups come from invoice_tally (a few hundred rows); with one,
    from the matching invoices.
    """
    counts = {s.value: 0 for s in Status}
    by_currency: dict[str, list] = {}
    for name, currency, n, usage, payable in db.session.execute(
        _scanning(filters, _groups(filters, today))
    ):
        counts[name] += int(n)
        # A tally group whose invoices all moved on stays behind at zero.
        if int(n) and filters.status in ("ALL", name):
            total = by_currency.setdefault(currency, [0, Decimal(0), Decimal(0)])
            total[0] += int(n)
            total[1] += usage
            total[2] += payable
    counts["ALL"] = sum(counts.values())
    return Summary(
        counts,
        [CurrencyTotal(c, *by_currency[c]) for c in sorted(by_currency)],
    )


def status_counts(filters: InvoiceFilters, today: date) -> dict[str, int]:
    """How many invoices each status would show under the other filters."""
    return summary(filters, today).counts


def totals(filters: InvoiceFilters, today: date) -> list[CurrencyTotal]:
    """Count and sums per currency of everything that matches (never mixed)."""
    return summary(filters, today).totals
