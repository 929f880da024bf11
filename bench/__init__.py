"""Benchmarks. Run with `make bench` (a throwaway PostgreSQL is started for them)."""
