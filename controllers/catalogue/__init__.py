"""Catalogue: the dashboard, starting and watching sync runs, a run's full lists."""
