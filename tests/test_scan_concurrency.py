"""A clerk confirming page 1 of a scanned ballot while an import brings its page 2 (issue 21),
on PostgreSQL: each transaction sees only its own page waiting, so neither would count the
ballot; the one that commits last puts the pages together after its commit, and the ballot is
counted once. (Two clerks cannot meet this way: the audit chain's lock orders their
transactions before they put pages together; an import puts pages together before it logs.)"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from ballots.models import Ballot, ScanPage
from campaigns.models import Campaign
from campaigns.services import campaign_set_status

cv2 = pytest.importorskip("cv2")
pytest.importorskip("zxingcpp")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("db-races"),
]


@pytest.fixture
def two_pages(campaign_factory, office, settings, tmp_path, is_postgres):
    """Ballot 000001 of a 66-unit (two-page) campaign: page 1, with an uncertain row,
    imported (to confirm); page 2, clean, still a file."""
    if not is_postgres:
        pytest.skip("races need PostgreSQL (SQLite serialises writers)")
    from ballots.paper.printing import print_range
    from ballots.paper.ranges import range_create
    from ballots.scan.services import scan_import
    from ballots.services import Layout
    from demo.data import UNITS_000
    from tests.helpers import add_units
    from tests.scan_helpers import marked_pages, shade

    settings.PINGYI_PRIVATE_FILES_ROOT = tmp_path / "private"
    camp = campaign_factory("qianren", slug="bingfa", name="并发")
    add_units(camp, dict(UNITS_000))
    campaign_set_status(campaign=camp, status=Campaign.Status.OPEN, user=office)
    rng = range_create(campaign=camp, first=1, last=1, user=office)
    pdf = print_range(rng)
    rng.refresh_from_db()
    plan = {row: 1 + row % 4 for row in range(len(Layout.of(camp).cells))}
    files = marked_pages(pdf, rng.layout, [(plan, -1)], tmp_path)
    path, page = files[0][0], rng.layout["pages"][0]
    img = cv2.imread(str(path))
    box = next(b for b in page["boxes"] if b["key"] == 2 and plan[b["row"]] != 2)
    shade(img, box, 200 / 72)
    cv2.imwrite(str(path), img)
    scan_import(campaign=camp, files=files[:1], user=office)
    page = ScanPage.objects.get(campaign=camp)
    assert page.status == ScanPage.Status.CONFIRM
    return camp, page, files[1]


def test_a_page_confirmed_while_its_other_page_is_imported_makes_one_ballot(
    two_pages, clerk, office
):
    import time

    from ballots.scan.services import page_confirm, scan_import

    camp, p1, file2 = two_pages
    confirmed, go = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def clerk_confirms() -> None:  # confirms page 1, holds its transaction open
        try:
            with transaction.atomic():
                page_confirm(page=p1, keys={r[0]: 1 for r in p1.rows if not r[2]}, user=clerk)
                confirmed.set()
                assert go.wait(60)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
            confirmed.set()
        finally:
            connection.close()

    def stack_comes_in() -> None:  # puts page 2 together before it logs, then waits to log
        try:
            assert confirmed.wait(60)
            scan_import(campaign=camp, files=[file2], user=office)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=clerk_confirms), threading.Thread(target=stack_comes_in)]
    for t in threads:
        t.start()
    # Let the import read its page and put it together (it then waits for the clerk's
    # transaction at the audit log's lock), then let the clerk's transaction commit.
    time.sleep(4)
    go.set()
    for t in threads:
        t.join()
    assert errors == []
    assert Ballot.objects.filter(campaign=camp, serial="000001").count() == 1
    assert set(ScanPage.objects.filter(campaign=camp).values_list("status", flat=True)) == {
        ScanPage.Status.COUNTED
    }
