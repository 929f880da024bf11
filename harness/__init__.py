"""What tests and benches need around the app: ports, processes, the app started, a browser.

Plain Python (no pytest): `tests/` and `bench/` both import it. Every wait has its own bound
and fails with a message saying what did not happen, with the end of the process's log.
"""
