"""Two clerks saving the same serial at the same moment (issue 5), on PostgreSQL: the database
constraint and the row locks make one the first pass and the other the second, never two
first passes and never two ballots."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from ballots.models import Ballot, KeyedEntry
from ballots.paper.keying import entry_key
from ballots.paper.ranges import range_create
from campaigns.models import Campaign, CampaignUnit, Category, Unit
from campaigns.services import campaign_set_status

# Many connections at once: these run one after another in one xdist worker (scripts/test.sh
# runs with --dist loadgroup), so two races never share the server's connections.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("db-races"),
]


@pytest.fixture
def camp(qianren, office, is_postgres):
    if not is_postgres:
        pytest.skip("races need PostgreSQL (SQLite serialises writers)")
    cat = Category.objects.filter(campaign=qianren).first()
    for i, name in enumerate(("甲局", "乙局")):
        CampaignUnit.objects.create(
            campaign=qianren,
            category=cat,
            name=name,
            order=i,
            unit=Unit.objects.get_or_create(name=name)[0],
        )
    campaign_set_status(campaign=qianren, status=Campaign.Status.OPEN, user=office)
    range_create(campaign=qianren, first=1, last=100, user=office)
    qianren.refresh_from_db()
    return qianren


def race(camp, clerks, serial, keys):
    barrier = threading.Barrier(len(clerks))
    results, errors = [], []

    def run(clerk):
        try:
            barrier.wait()
            results.append(entry_key(campaign=camp, clerk=clerk, serial=serial, keys=keys))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in clerks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


@pytest.mark.parametrize("round_", range(20))
def test_two_clerks_on_one_serial_make_one_ballot(camp, clerk, clerk2, round_):
    serial = str(10 + round_)
    results, errors = race(camp, [clerk, clerk2], serial, "12")
    assert errors == []
    assert sorted(r.entry.pass_no for r in results) == [1, 2]
    assert Ballot.objects.filter(serial=serial.zfill(6)).count() == 1
    assert set(
        KeyedEntry.objects.filter(serial=serial.zfill(6)).values_list("status", flat=True)
    ) == {"agreed"}
