"""Admin registrations of the ballots app, split by capability so each stays small."""

from ballots import admin_imports, admin_online, admin_paper  # noqa: F401
