"""What the features stand on: settings, the database and its tables, S3, the job queue, the
embedded services and demo data, and the processes (runtime, worker, supervisor)."""
