"""One query on the busiest path (an online submission), run as a prepared statement on
PostgreSQL.

Django sends every query with its values written in (psycopg's client-side binding), so
PostgreSQL plans it anew each time. A submission's two statements (everything it reads, and
the claim and insert) took longer to plan than to run: planning was a third of the
database's time per submission. Prepared once per connection and planned once, they are not.
Only these use it; every other query goes through Django's cursor as usual."""

from __future__ import annotations

from typing import Any

from django.db import connection


def fetchone_prepared(sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    """`sql` with `params` (placeholders `%s`), its first row. PostgreSQL: a prepared
    statement through psycopg's server-side binding, on Django's connection and in its
    transaction (or its autocommit); other databases: Django's cursor."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()
    import psycopg

    connection.ensure_connection()
    # Errors come out as Django's (IntegrityError, DataError…), and Django's transaction
    # handling learns of them, as through its own cursor.
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cur:
        cur.execute(sql, params, prepare=True)
        return cur.fetchone()
