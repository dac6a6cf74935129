"""Alembic owns the schema: the environment, the revisions, and a runner for code to call."""
