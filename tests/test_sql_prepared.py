"""ballots/sql.py: the submission's two statements run prepared on PostgreSQL, on Django's
connection and in its transaction; nothing else is ever prepared (settings: a threshold no
query reaches), and errors come out as Django's."""

from __future__ import annotations

import pytest
from django.db import DataError, connection, transaction

from ballots.sql import fetchone_prepared
from campaigns.models import Campaign

pytestmark = pytest.mark.django_db


def _prepared() -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cur.fetchall()]


def test_answers_like_a_plain_query():
    assert fetchone_prepared("SELECT %s + 1, %s", [41, "甲"]) == (42, "甲")
    assert fetchone_prepared("SELECT 1 WHERE %s", [False]) is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PG's")
def test_prepared_once_and_nothing_else_prepared():
    for _ in range(20):  # more than psycopg's default threshold of 5
        list(Campaign.objects.filter(slug="x").values_list("id"))
        with connection.cursor() as cur:
            cur.execute("SELECT %s", [1])
    assert _prepared() == []
    sql = "SELECT count(*) FROM campaigns_campaign WHERE slug = %s"
    for _ in range(3):
        assert fetchone_prepared(sql, ["x"]) == (0,)
    assert [s for s in _prepared() if "campaigns_campaign" in s] == [
        "SELECT count(*) FROM campaigns_campaign WHERE slug = $1"
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PG's")
def test_errors_are_djangos_and_the_transaction_knows():
    with pytest.raises(DataError), transaction.atomic():
        fetchone_prepared("SELECT %s::smallint", [100_000])
    assert fetchone_prepared("SELECT 1", []) == (1,)  # the savepoint rolled back: usable
