"""The database refuses a ballot whose answers array does not hold the slots 0, 1, 2, … in
order (ballots/answers.py): a ballot cannot answer one cell twice or skip one. PostgreSQL only
(SQLite has no arrays; the tally's TallyIntegrityError is the guard there)."""

from django.db import migrations

CHECK_FUNCTION = """
CREATE OR REPLACE FUNCTION ballots_answers_in_slot_order(a smallint[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(bool_and(v >= 0 AND v / 16 = o - 1), false)
  FROM unnest(a) WITH ORDINALITY AS u(v, o)
$$;
"""


def add_check(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CHECK_FUNCTION)
    schema_editor.execute(
        "ALTER TABLE ballots_ballot ADD CONSTRAINT ballot_answers_one_per_slot "
        "CHECK (ballots_answers_in_slot_order(answers))"
    )


def drop_check(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE ballots_ballot DROP CONSTRAINT IF EXISTS ballot_answers_one_per_slot"
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS ballots_answers_in_slot_order(smallint[])")


class Migration(migrations.Migration):
    dependencies = [("ballots", "0001_initial")]

    operations = [migrations.RunPython(add_check, drop_check)]
