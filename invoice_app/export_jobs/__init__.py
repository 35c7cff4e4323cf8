"""Background exports: queued by a user, written by the job worker, downloaded later.

queueing.py  what a request does: store the job (scope and filters as they are
             now), put it on the queue, find the jobs a user may see, cancel
running.py   what the worker does: the file into a temporary name, renamed when
             whole, with progress, cancel and failures in plain words
writers.py   per format, the synchronous export's own file: the streamed XLSX,
             the list PDF (in parts), the zip of invoice PDFs
sweeping.py  the periodic task: retry or fail exports whose worker died, remove
             files past EXPORT_RETENTION_HOURS
"""
