"""The jobs page: what the job queue holds per kind of job, recent failures and their retry,
and pausing the previews (derive_media jobs). The queue itself is domain/platform/queue.py."""
