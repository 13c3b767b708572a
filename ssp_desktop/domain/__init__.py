"""The domain: records (the ORM tables), enums, periods, rules of judgement, errors and the
change log. Knows nothing of Qt, SQLite files or the UI (DESIGN.md section 6; picture in
docs/architecture.md)."""
