"""Admin registrations of ballot collection, one module per way in."""

from ballots.intake import admin as intake_admin  # noqa: F401
from ballots.online import admin as online_admin  # noqa: F401
from ballots.paper import admin as paper_admin  # noqa: F401
