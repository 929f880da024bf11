"""The application without the web: one subpackage per feature (catalogue, staging, production,
accounts) and the platform they stand on. Nothing here imports Litestar."""
