"""Admin for this capability (registered on import from ballots/admin.py)."""
