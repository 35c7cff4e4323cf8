"""Shared by the background export tests: users, sign-in, queueing, reading files."""

from __future__ import annotations

import io
import re

import openpyxl

from invoice_app.extensions import db
from invoice_app.models import ExportJob, Role, Tenant, User
from tests.conftest import PASSWORDS, csrf_token


def make_user(email: str, role: str = "staff", tenant: Tenant | None = None) -> User:
    user = User(email=email, role=Role(role).value, tenant=tenant)
    user.set_password(PASSWORDS[role])
    db.session.add(user)
    db.session.commit()
    return user


def sign_in(client, user: User) -> None:
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORDS[user.role],
            "csrf_token": csrf_token(page),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def queue(client, **filters) -> str:
    """Press "XLSX in the background" on the list under filters; the job's id."""
    page = client.get("/billing/invoices", query_string=filters)
    form = {"csrf_token": csrf_token(page.get_data(as_text=True)), "format": "xlsx"}
    response = client.post("/billing/exports", data={**form, **filters})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    match = re.search(r"#export-([A-Za-z0-9_-]+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def job(job_id: str) -> ExportJob:
    db.session.rollback()  # a fresh look at what the worker wrote
    return db.session.get(ExportJob, job_id)


def cells(body: bytes) -> dict[str, list[tuple]]:
    """Every sheet's cells (value and number format), the export time left out."""
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    sheets = {}
    for sheet in book.worksheets:
        rows = []
        for row in sheet.iter_rows():
            if row and str(row[0].value or "").startswith("Generated at"):
                continue  # when the file was made: the one cell that differs
            rows.append(tuple(_cell(c) for c in row))
        sheets[sheet.title] = rows
    book.close()
    return sheets


def _cell(cell) -> tuple:
    style = getattr(cell, "style_array", None)
    quoted = bool(style.quotePrefix) if style is not None else False
    return (cell.value, getattr(cell, "number_format", None), quoted)


def download(client, job_id: str):
    """GET the export's file; the response, read and closed (send_file's file)."""
    response = client.get(f"/billing/exports/{job_id}/file")
    response.get_data()
    response.close()
    return response
