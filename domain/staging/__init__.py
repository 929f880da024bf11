"""Staged models: the review queries behind the admin's list and model pages, and activation
(a staged model promoted into the production tables)."""
