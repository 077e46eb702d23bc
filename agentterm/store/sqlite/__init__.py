"""The SQLite backend: one local file (the default store)."""
