"""Production: the activated models and posts, publishing them, editing, the public API."""
