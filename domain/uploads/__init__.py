"""Uploads from the admin: names and types checked, files straight to the bucket, then a sync."""
