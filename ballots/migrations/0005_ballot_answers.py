"""One row per ballot: the answers move from the vote table into `Ballot.answers`.

The encoding is ballots/answers.py's (slot * 16 + code, slots and options in id order); it is
written out here rather than imported, because a migration must keep meaning what it meant
when it was written.
"""

from collections import defaultdict

from django.db import migrations

import ballots.fields

CODES = 16
KIND_CODE = {"blank": 0, "spoiled": 1}

CHECK_FUNCTION = """
CREATE OR REPLACE FUNCTION ballots_answers_in_slot_order(a smallint[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(bool_and(v >= 0 AND v / 16 = o - 1), false)
  FROM unnest(a) WITH ORDINALITY AS u(v, o)
$$;
"""


def _encoding(campaign):
    """(cells, option ids) of a campaign in id order: the slots and option codes."""
    units = sorted(campaign.units.values_list("id", flat=True))
    dims = sorted(campaign.dimensions.values_list("id", flat=True)) or [None]
    cells = sorted(((u, d) for u in units for d in dims), key=lambda c: (c[0], c[1] or 0))
    return cells, sorted(campaign.options.values_list("id", flat=True))


def votes_to_answers(apps, schema_editor):
    Campaign = apps.get_model("campaigns", "Campaign")
    Ballot = apps.get_model("ballots", "Ballot")
    Vote = apps.get_model("ballots", "Vote")
    for campaign in Campaign.objects.filter(ballots__isnull=False).distinct():
        cells, options = _encoding(campaign)
        slot_of = {cell: i for i, cell in enumerate(cells)}
        code_of = {oid: 2 + i for i, oid in enumerate(options)}
        by_ballot: dict = defaultdict(dict)
        rows = Vote.objects.filter(campaign=campaign).values_list(
            "ballot_id", "unit_id", "dimension_id", "option_id", "kind"
        )
        for ballot_id, unit_id, dim_id, option_id, kind in rows.iterator(chunk_size=10_000):
            slot = slot_of[(unit_id, dim_id)]
            code = code_of[option_id] if kind == "option" else KIND_CODE[kind]
            by_ballot[ballot_id][slot] = slot * CODES + code
        for ballot in Ballot.objects.filter(campaign=campaign).only("id"):
            given = by_ballot.get(ballot.id, {})
            # A cell without a vote row was never possible (every path wrote all cells); if
            # one is missing anyway it is stored as unmarked rather than refusing to migrate.
            ballot.answers = [given.get(s, s * CODES) for s in range(len(cells))]
            ballot.save(update_fields=["answers"])


def answers_to_votes(apps, schema_editor):
    """The way back: one vote row per element, so unapplying loses nothing."""
    import uuid

    Campaign = apps.get_model("campaigns", "Campaign")
    Ballot = apps.get_model("ballots", "Ballot")
    Vote = apps.get_model("ballots", "Vote")
    for campaign in Campaign.objects.filter(ballots__isnull=False).distinct():
        cells, options = _encoding(campaign)
        votes = []
        for ballot_id, answers in Ballot.objects.filter(campaign=campaign).values_list(
            "id", "answers"
        ):
            for element in answers or []:
                slot, code = divmod(element, CODES)
                unit_id, dim_id = cells[slot]
                kind = {0: "blank", 1: "spoiled"}.get(code, "option")
                votes.append(
                    Vote(
                        id=uuid.uuid4(),
                        ballot_id=ballot_id,
                        campaign_id=campaign.pk,
                        unit_id=unit_id,
                        dimension_id=dim_id,
                        option_id=options[code - 2] if kind == "option" else None,
                        kind=kind,
                    )
                )
        Vote.objects.bulk_create(votes, batch_size=5000)


def add_check(apps, schema_editor):
    # The database refuses an array that does not hold the slots 0, 1, 2, ... in order: a
    # ballot cannot answer one cell twice or skip one. PostgreSQL only (SQLite cannot add a
    # constraint to an existing table, and has no arrays).
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
    dependencies = [
        ("ballots", "0004_vote_fewer_indexes"),
        ("campaigns", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="ballot",
            name="answers",
            field=ballots.fields.SmallIntArrayField(null=True, verbose_name="评价"),
        ),
        migrations.RunPython(votes_to_answers, answers_to_votes),
        migrations.AlterField(
            model_name="ballot",
            name="answers",
            field=ballots.fields.SmallIntArrayField(verbose_name="评价"),
        ),
        migrations.DeleteModel(name="Vote"),
        migrations.RunPython(add_check, drop_check),
    ]
