"""import_ballots (spec section 10), the tally command, and the golden examples end to end.

These run on whichever database the suite runs on: scripts/test.sh runs them on SQLite and on
PostgreSQL (COPY path)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest
from django.core.management import CommandError, call_command

from ballots.intake.imports import ballots_import, batch_undo
from ballots.models import Ballot, ImportBatch
from ballots.services import Answer, Layout, ballot_create
from campaigns.models import CampaignUnit, RepresentativeGroup, Unit
from core.models import AuditLog
from core.spreadsheets import SpreadsheetError
from tests.helpers import add_units, xlsx_file

UNITS = ("甲局", "乙局", "丙局")


@pytest.fixture
def camp(qianren):
    add_units(qianren, {"地方管理部门类": UNITS})
    return qianren


def sheet(*rows, header=("编号", "渠道", "代表类别", *UNITS)):
    return {"评议表": [header, *rows]}


def tally(slug: str) -> dict:
    out = io.StringIO()
    with redirect_stdout(out):
        call_command("tally", slug, "--format", "json", stdout=out)
    return json.loads(out.getvalue())


def unit_row(data: dict, name: str) -> dict:
    return next(u for c in data["categories"] for u in c["units"] if u["unit"] == name)


def close(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return abs(a - b) <= 1e-6
    return a == b


@pytest.mark.parametrize("preset", ["qianren", "wanren", "zhengfeng"])
def test_golden_examples_through_the_commands(golden, preset, db, capsys):
    """The documented command sequence prints exactly expected.json (numbers to 1e-6)."""
    folder = golden / preset
    call_command(
        "create_campaign",
        "--preset",
        preset,
        "--slug",
        "golden",
        "--name",
        "示例",
        "--year",
        "2026",
    )
    call_command("import_units", "golden", str(folder / "units.xlsx"))
    call_command("import_ballots", "golden", str(folder / "ballots.xlsx"))
    capsys.readouterr()
    call_command("tally", "golden", "--format", "json")
    got = json.loads(capsys.readouterr().out)
    expected = json.loads((folder / "expected.json").read_text())
    assert got["campaign"]["slug"] == "golden"
    got.pop("campaign")
    expected.pop("campaign", None)
    assert close(got, expected), json.dumps(got, ensure_ascii=False)[:2000]


def test_votes_blanks_spoiled_and_blank_means(camp, tmp_path):
    path = xlsx_file(
        tmp_path,
        "b.xlsx",
        sheet(
            ("000001", "社会随机评", "服务对象", "满意", None, "满意,不满意"),
            ("000002", "社会随机评", "服务对象", "基本满意", "不满意", "满意 基本满意"),
        ),
    )
    result = ballots_import(campaign=camp, file=path, filename="b.xlsx")
    assert (result.ballots, result.valid, result.invalid) == (2, 2, 0)
    data = tally(camp.slug)
    jia, yi, bing = (unit_row(data, n) for n in UNITS)
    assert jia["counts"] == {"满意": 1, "基本满意": 1, "不满意": 0, "弃权": 0}
    # 千人评议: a blank on a valid ballot is 弃权 (0.5 points), spec section 1.
    assert yi["counts"] == {"满意": 0, "基本满意": 0, "不满意": 1, "弃权": 1}
    assert yi["score"] == 0.5 and yi["blank"] == 0
    assert bing["spoiled"] == 2 and bing["rank"] is None and "no_votes" in bing["flags"]
    stored = [len(b.answers) for b in Ballot.objects.filter(campaign=camp)]
    assert stored == [3, 3]


def test_blank_stays_blank_without_blank_means(camp, tmp_path):
    camp.blank_means = None
    camp.save()
    path = xlsx_file(tmp_path, "b.xlsx", sheet(("000001", "", "", "满意", None, None)))
    ballots_import(campaign=camp, file=path, filename="b.xlsx")
    yi = unit_row(tally(camp.slug), "乙局")
    assert yi["blank"] == 1 and yi["counts"]["弃权"] == 0 and "no_votes" in yi["flags"]


def test_the_import_reads_ballots_like_the_service(camp, tmp_path):
    """One reading of a ballot: import and ballot_create store the same votes."""
    rows = [("000001", "", "", "满意", None, "满意,不满意"), ("000002", "", "", None, None, None)]
    ballots_import(
        campaign=camp, file=xlsx_file(tmp_path, "b.xlsx", sheet(*rows)), filename="b.xlsx"
    )
    units = {u.name: u.id for u in camp.units.all()}
    opts = {o.label: o.id for o in camp.options.all()}
    layout = Layout.of(camp)
    for serial, *_rest, a, _b, c in rows:
        answers = [Answer(units["甲局"], None, opts[a]) if a else Answer(units["甲局"], None, None)]
        answers.append(Answer(units["乙局"], None, None))
        answers.append(Answer(units["丙局"], None, None, spoiled=bool(c)))
        reading = layout.read(layout.marks(answers))
        ballot = Ballot.objects.get(campaign=camp, serial=serial)
        assert list(ballot.answers) == reading.answers
        assert (ballot.is_blank, ballot.status, ballot.invalid_reason) == (
            reading.is_blank, reading.status, reading.invalid_reason)


def test_blank_ballot_is_invalid(camp, tmp_path):
    path = xlsx_file(
        tmp_path,
        "b.xlsx",
        sheet(("000001", "", "", None, None, None), ("000002", "", "", "满意", None, None)),
    )
    result = ballots_import(campaign=camp, file=path, filename="b.xlsx")
    assert result.blank_ballots == 1
    blank = Ballot.objects.get(serial="000001")
    assert (blank.status, blank.invalid_reason) == ("invalid", "blank_ballot")
    assert tally(camp.slug)["ballots"] == {
        "total": 2,
        "valid": 1,
        "invalid": 1,
        "invalid_reasons": {"blank_ballot": 1},
    }


def test_repeated_serials_in_the_file_and_across_batches(camp, tmp_path):
    first = xlsx_file(
        tmp_path,
        "a.xlsx",
        sheet(
            ("000001", "", "", "满意", "满意", "满意"),
            ("000001", "", "", "不满意", "满意", "满意"),
            ("000002", "", "", "满意", "满意", "满意"),
        ),
    )
    r1 = ballots_import(campaign=camp, file=first, filename="a.xlsx")
    assert r1.duplicate_serials == ["000001"]
    second = xlsx_file(tmp_path, "b.xlsx", sheet(("000002", "", "", "不满意", "满意", "满意")))
    r2 = ballots_import(campaign=camp, file=second, filename="b.xlsx")
    assert r2.duplicate_serials == ["000002"]
    assert set(Ballot.objects.filter(status="valid").values_list("serial", flat=True)) == set()
    # Undoing the second batch makes 000002 unique again: it regains its validity.
    batch_undo(batch=r2.batch, user=None, reason="重复导入")
    assert list(Ballot.objects.filter(status="valid").values_list("serial", flat=True)) == [
        "000002"
    ]
    assert Ballot.objects.filter(serial="000001", invalid_reason="duplicate_serial").count() == 2


@pytest.mark.parametrize(
    ("rows", "header", "where"),
    [
        ([("000001", "", "", "很满意", None, None)], None, "第2行第D列"),
        (
            [("000001", "", "", "满意", None, None), ("", "", "", "满意", None, None)],
            None,
            "第3行第A列",
        ),
        (
            [("000001", "", "", "满意", None)],
            ("编号", "渠道", "代表类别", "甲局", "丁局"),
            "第1行第E列",
        ),
        ([("000001", "满意", "满意", "满意")], ("渠道", *UNITS), "缺少列“编号”"),
        ([("000001", "满意", "满意")], ("编号", "甲局", "乙局"), "缺少以下单位的列:丙局"),
    ],
)
def test_errors_name_sheet_row_and_column_and_import_nothing(camp, tmp_path, rows, header, where):
    kw = {"header": header} if header else {}
    path = xlsx_file(tmp_path, "bad.xlsx", sheet(*rows, **kw))
    with pytest.raises(CommandError) as exc:
        call_command("import_ballots", camp.slug, str(path))
    assert "工作表“评议表”" in str(exc.value) and where in str(exc.value)
    assert not Ballot.objects.exists() and not ImportBatch.objects.exists()
    assert not AuditLog.objects.filter(action="ballots_import").exists()


def test_every_bad_cell_is_listed(camp, tmp_path):
    path = xlsx_file(
        tmp_path,
        "bad.xlsx",
        sheet(("000001", "", "", "好", None, None), ("000002", "", "", "满意", "差", "满意,优")),
    )
    with pytest.raises(SpreadsheetError) as exc:
        ballots_import(campaign=camp, file=path, filename="bad.xlsx")
    where = [(e.row, e.column) for e in exc.value.errors]
    assert where == [(2, 4), (3, 5), (3, 6)]


def test_the_same_file_twice_is_refused_naming_the_earlier_import(camp, tmp_path):
    path = xlsx_file(tmp_path, "a.xlsx", sheet(("000001", "", "", "满意", "满意", "满意")))
    call_command("import_ballots", camp.slug, str(path))
    with pytest.raises(CommandError, match="a.xlsx.*不能重复导入"):
        call_command("import_ballots", camp.slug, str(path))
    assert Ballot.objects.count() == 1
    # Once undone, the same file may be imported again.
    batch = ImportBatch.objects.get()
    call_command("import_ballots", camp.slug, "--undo", str(batch.pk))
    call_command("import_ballots", camp.slug, str(path))
    assert Ballot.objects.count() == 1


def test_batches_are_listed_undone_and_audited(camp, tmp_path, office, capsys):
    path = xlsx_file(
        tmp_path,
        "a.xlsx",
        sheet(("000001", "", "", "满意", "满意", "满意"), ("000002", "", "", "满意", None, "满意")),
    )
    result = ballots_import(campaign=camp, file=path, filename="a.xlsx", user=office)
    call_command("import_ballots", camp.slug, "--list")
    assert "a.xlsx\t2 张\t有效" in capsys.readouterr().out
    assert batch_undo(batch=result.batch, user=office, reason="录错了") == 2
    assert not Ballot.objects.exists()  # the answers are part of the ballot row
    actions = list(AuditLog.objects.order_by("at", "id").values_list("action", "username"))
    assert ("ballots_import", "office") in actions and ("ballots_import_undo", "office") in actions
    assert AuditLog.objects.get(action="ballots_import_undo").reason == "录错了"
    with pytest.raises(SpreadsheetError, match="已撤销"):
        batch_undo(batch=result.batch, user=office)


def test_unknown_group_is_added_and_reported(camp, tmp_path):
    path = xlsx_file(
        tmp_path, "a.xlsx", sheet(("000001", "社会随机评", "基层干部", "满意", "满意", "满意"))
    )
    result = ballots_import(campaign=camp, file=path, filename="a.xlsx")
    assert result.new_groups == ["基层干部"]
    assert Ballot.objects.get().group == RepresentativeGroup.objects.get(
        campaign=camp, name="基层干部"
    )
    assert Ballot.objects.get().channel == "社会随机评"


def test_closed_campaign_refuses_imports(camp, tmp_path):
    camp.status = "closed"
    camp.save()
    path = xlsx_file(tmp_path, "a.xlsx", sheet(("000001", "", "", "满意", "满意", "满意")))
    with pytest.raises(SpreadsheetError, match="已结束"):
        ballots_import(campaign=camp, file=path, filename="a.xlsx")


def test_dimensions_need_unit_bar_dimension_headers(campaign_factory, tmp_path):
    camp = campaign_factory("wanren")
    cat = camp.categories.get()
    CampaignUnit.objects.create(
        campaign=camp, category=cat, name="甲局", unit=Unit.objects.get_or_create(name="甲局")[0]
    )
    dims = list(camp.dimensions.values_list("name", flat=True))
    bad = xlsx_file(tmp_path, "a.xlsx", sheet(("000001", "满意"), header=("编号", "甲局")))
    with pytest.raises(SpreadsheetError, match="单位|评议内容"):
        ballots_import(campaign=camp, file=bad, filename="a.xlsx")
    good = xlsx_file(
        tmp_path,
        "b.xlsx",
        sheet(
            ("000001", *["满意"] * (len(dims) - 1), "不满意"),
            header=("编号", *[f"甲局|{d}" for d in dims]),
        ),
    )
    ballots_import(campaign=camp, file=good, filename="b.xlsx")
    jia = unit_row(tally(camp.slug), "甲局")
    # mean: (22·4 + 11·1) / 5 over all dimensions' votes (spec section 3).
    assert jia["score"] == pytest.approx((22 * 4 + 11) / 5)
    (ballot,) = Ballot.objects.filter(campaign=camp)
    assert len(ballot.answers) == len(dims)
    assert sorted(v.dimension_id for v in ballot.votes()) == sorted(d.id for d in camp.dimensions.all())


def test_invalidate_and_restore_are_audited_and_change_the_tally(camp, office):
    units = {u.name: u.id for u in camp.units.all()}
    opts = {o.label: o.id for o in camp.options.all()}
    ballot = ballot_create(
        campaign=camp,
        source="paper",
        serial="000009",
        answers=[Answer(units[n], None, opts["满意"]) for n in UNITS],
    )
    from ballots.services import BallotError, ballot_invalidate, ballot_restore

    with pytest.raises(BallotError):
        ballot_invalidate(ballot=ballot, reason="  ", user=office)
    ballot_invalidate(ballot=ballot, reason="复印件", user=office)
    data = tally(camp.slug)
    assert data["ballots"]["invalid_reasons"] == {"manual": 1}
    assert unit_row(data, "甲局")["rank"] is None
    log = AuditLog.objects.get(action="ballot_invalidate")
    assert (log.reason, log.username) == ("复印件", "office")
    ballot_restore(ballot=ballot, reason="核实为原件", user=office)
    assert unit_row(tally(camp.slug), "甲局")["score"] == 2
    assert AuditLog.objects.filter(action="ballot_restore").count() == 1
    # Once the campaign is closed (or published) the count is final, whatever page asks.
    for status in ("closed", "published"):
        type(camp).objects.filter(pk=camp.pk).update(status=status)
        with pytest.raises(BallotError, match="评议活动已结束"):
            ballot_invalidate(ballot=ballot, reason="复印件", user=office)
    assert Ballot.objects.get(pk=ballot.pk).status == "valid"
    assert AuditLog.objects.filter(action="ballot_invalidate").count() == 1


def test_table_format_is_a_readable_chinese_table(camp, tmp_path, capsys):
    path = xlsx_file(tmp_path, "a.xlsx", sheet(("000001", "", "", "满意", "基本满意", "不满意")))
    ballots_import(campaign=camp, file=path, filename="a.xlsx")
    capsys.readouterr()
    call_command("tally", camp.slug, "--format", "table")
    out = capsys.readouterr().out
    assert "【地方管理部门类】" in out and "名次" in out and "满意率" in out
    lines = [line for line in out.splitlines() if "甲局" in line]
    assert lines and lines[0].split()[0] == "1" and "优胜" in lines[0]


def test_zero_one_and_two_ballots(camp, tmp_path):
    data = tally(camp.slug)
    assert data["ballots"]["total"] == 0
    assert all("no_votes" in u["flags"] for c in data["categories"] for u in c["units"])
    one = xlsx_file(tmp_path, "1.xlsx", sheet(("000001", "", "", "满意", "满意", "不满意")))
    ballots_import(campaign=camp, file=one, filename="1.xlsx")
    data = tally(camp.slug)
    assert [unit_row(data, n)["rank"] for n in UNITS] == [1, 1, 3]
    two = xlsx_file(tmp_path, "2.xlsx", sheet(("000002", "", "", "不满意", "满意", "不满意")))
    ballots_import(campaign=camp, file=two, filename="2.xlsx")
    data = tally(camp.slug)
    assert [unit_row(data, n)["score"] for n in UNITS] == [2, 4, 0]
    assert "last_place" in unit_row(data, "丙局")["flags"]


def test_cells_are_named_as_excel_shows_them_when_a_sheet_starts_further_in(camp, tmp_path):
    # The streaming reader must keep Excel's positions: a sheet keyed from column B
    # must still name column E for the bad cell, not D.
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "评议表"
    for col, value in enumerate(("编号", "渠道", "代表类别", *UNITS), start=2):
        ws.cell(row=1, column=col, value=value)
    for col, value in enumerate(("000001", "", "", "满意", "好", "满意"), start=2):
        ws.cell(row=2, column=col, value=value or None)
    path = tmp_path / "offset.xlsx"
    wb.save(path)
    with pytest.raises(SpreadsheetError) as exc:
        ballots_import(campaign=camp, file=path, filename="offset.xlsx")
    assert [(e.row, e.column) for e in exc.value.errors] == [(2, 6)]
    assert "第2行第F列" in str(exc.value.errors[0])


def test_the_plain_tally_and_the_tally_with_breakdowns_agree(camp, tmp_path):
    from scoring.tally import tally_campaign, tally_json

    rows = [("000001", "网上", "服务对象", "满意", "不满意", "满意")]
    rows += [("000002", "现场", "党政干部", "基本满意", "满意", None)]
    call_command("import_ballots", camp.slug, str(xlsx_file(tmp_path, "b.xlsx", sheet(*rows))))
    # Two ballots show slice by slice only with the minimum off (tests/test_suppression.py).
    camp.min_cell_ballots = 1
    camp.save(update_fields=["min_cell_ballots"])
    plain = tally_campaign(camp)
    full = tally_campaign(camp, breakdowns=True)
    assert tally_json(camp, plain) == tally_json(camp, full)
    unit = full.unit(CampaignUnit.objects.get(campaign=camp, name="甲局").id)
    assert [(b.key, dict(b.counts)["满意"]) for b in unit.by_channel] == [("现场", 0), ("网上", 1)]
    assert {b.key for b in unit.by_group} == {"服务对象", "党政干部"}
    assert plain.unit(unit.unit.key and int(unit.unit.key)).by_channel == ()


def test_import_summary_and_tally_count_a_blank_photocopy_as_a_photocopy(camp, tmp_path):
    """Spec section 2: the first reason in the order manual, duplicate_serial, blank_ballot."""
    rows = [
        ("000001", "", "", None, None, None),  # blank...
        ("000001", "", "", None, None, None),  # ...and photocopied
        ("000002", "", "", None, None, None),  # blank only
        ("000003", "", "", "满意", None, None),
    ]
    result = ballots_import(
        campaign=camp, file=xlsx_file(tmp_path, "b.xlsx", sheet(*rows)), filename="b.xlsx"
    )
    assert result.blank_ballots == 1
    assert result.batch.summary["invalid_reasons"] == {"duplicate_serial": 2, "blank_ballot": 1}
    assert list(result.batch.summary["invalid_reasons"]) == ["duplicate_serial", "blank_ballot"]
    assert tally(camp.slug)["ballots"]["invalid_reasons"] == result.batch.summary[
        "invalid_reasons"]


def test_a_resaved_copy_with_the_same_cells_is_refused_naming_the_earlier_import(camp, tmp_path):
    """Content, not bytes, identifies a file already imported (spec section 10)."""
    import openpyxl

    first = xlsx_file(tmp_path, "a.xlsx", sheet(("000001", "", "", "满意", "满意", "满意")))
    ballots_import(campaign=camp, file=first, filename="a.xlsx")
    book = openpyxl.load_workbook(first)
    book.active["K1"] = None  # touched and saved again: new bytes, the same cells
    book.properties.creator = "另一台电脑"
    copy = tmp_path / "a-copy.xlsx"
    book.save(copy)
    assert copy.read_bytes() != first.read_bytes()
    with pytest.raises(SpreadsheetError) as exc:
        ballots_import(campaign=camp, file=copy, filename="a-copy.xlsx")
    assert "a.xlsx" in str(exc.value) and "不能重复导入" in str(exc.value)
    assert Ballot.objects.filter(campaign=camp).count() == 1


def test_a_full_width_separator_spoils_the_cell_and_a_repeated_label_counts_once(camp, tmp_path):
    rows = [("000001", "", "", "满意，不满意", "基本满意；基本满意", "满意　满意")]
    ballots_import(campaign=camp, file=xlsx_file(tmp_path, "b.xlsx", sheet(*rows)),
                   filename="b.xlsx")
    data = tally(camp.slug)
    assert unit_row(data, "甲局")["spoiled"] == 1
    assert unit_row(data, "乙局")["counts"]["基本满意"] == 1
    assert unit_row(data, "丙局")["counts"]["满意"] == 1
