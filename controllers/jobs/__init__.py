"""Jobs: the job queue per kind of job, recent failures and their retry, pausing previews."""
