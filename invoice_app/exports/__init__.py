"""Files made from invoice rows: the XLSX and PDF of a filtered list, invoice PDFs.

Renderers here never read the request: they take rows (or an iterator of rows)
and a small context, and return bytes or a stream; the views in
billing/exports.py decide the response.
"""
