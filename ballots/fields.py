"""A list of small integers: a native ``smallint[]`` on PostgreSQL (the production database,
where the tally unnests it), JSON text on SQLite (where ``json_each`` does the same)."""

from __future__ import annotations

import json
from typing import Any

from django.db import models


class SmallIntArrayField(models.Field):
    description = "list of small integers"

    def db_type(self, connection: Any) -> str:
        return "smallint[]" if connection.vendor == "postgresql" else "text"

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None:
            return None
        values = [int(v) for v in value]
        if connection.vendor == "postgresql":
            return values
        return json.dumps(values, separators=(",", ":"))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> list[int] | None:
        if value is None:
            return None
        if isinstance(value, str):
            return [int(v) for v in json.loads(value)]
        return list(value)

    def to_python(self, value: Any) -> list[int] | None:
        if value is None or isinstance(value, list):
            return value
        if isinstance(value, str):
            return [int(v) for v in json.loads(value)]
        return [int(v) for v in value]
