"""Uploads: new posts sent from the browser to the bucket, or through the app."""
