"""Staging: the staged models waiting for review, their activation one by one or in bulk."""
