"""Background exports: queued by a user, written by the job worker, downloaded later.

queueing.py  what a request does: store the job (scope and filters as they are
             now), put it on the queue, find the jobs a user may see, cancel
running.py   what the worker does: the same streamed XLSX as the synchronous
             export, into a temporary file renamed when whole, with progress
sweeping.py  the periodic task: retry or fail exports whose worker died, remove
             files past EXPORT_RETENTION_HOURS
"""
