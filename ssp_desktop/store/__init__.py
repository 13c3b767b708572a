"""The store: engine and sessions, single-writer lock, Alembic migrations, backup and the
integrity check. The only package that knows the store is SQLite (or PostgreSQL)."""
