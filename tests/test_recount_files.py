"""recount and its files: the CSV instead of the JSON Lines, the fingerprint, and what a
changed or unreadable file gives (exit codes). No Django."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from recount import recount, render
from recount.cli import main
from tests.recount_builders import (
    publish,
    run_cli,
    validity_case,
)


def test_csv_only_gives_same_output_and_fingerprint(tmp_path: Path) -> None:
    rec, rows = validity_case()
    fingerprint = publish(tmp_path / "both", rec, rows)
    shutil.copytree(tmp_path / "both", tmp_path / "csv")
    (tmp_path / "csv" / "ballots.jsonl").unlink()
    both, only_csv = recount(tmp_path / "both"), recount(tmp_path / "csv")
    assert both.fingerprint == only_csv.fingerprint == fingerprint
    assert render(both.result) == render(only_csv.result)
    a, b = run_cli(tmp_path / "both"), run_cli(tmp_path / "csv")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout == render(both.result)
    assert f"fingerprint: {fingerprint}" in b.stderr


def test_fingerprint_option(tmp_path: Path) -> None:
    rec, rows = validity_case()
    fingerprint = publish(tmp_path, rec, rows)
    proc = run_cli(tmp_path, "--fingerprint")
    assert (proc.returncode, proc.stdout) == (0, fingerprint + "\n")


def test_changed_byte_exits_1(tmp_path: Path) -> None:
    rec, rows = validity_case()
    publish(tmp_path, rec, rows)
    path = tmp_path / "ballots.jsonl"
    data = bytearray(path.read_bytes())
    data[data.index("满意".encode())] ^= 1  # one byte of one answer
    path.write_bytes(bytes(data))
    proc = run_cli(tmp_path)
    assert proc.returncode == 1 and proc.stdout == "" and "ballots.jsonl" in proc.stderr
    assert main([str(tmp_path)], io.StringIO(), io.StringIO()) == 1


def test_unreadable_directory_exits_2(tmp_path: Path) -> None:
    proc = run_cli(tmp_path / "missing")
    assert proc.returncode == 2 and proc.stdout == ""


def test_cli_output_matches_tally_format(tmp_path: Path) -> None:
    rec, rows = validity_case()
    publish(tmp_path, rec, rows)
    proc = run_cli(tmp_path)
    assert proc.returncode == 0
    outcome = recount(tmp_path)
    assert proc.stdout == json.dumps(outcome.result, ensure_ascii=False, indent=2) + "\n"
    # the four disagreements of validity_case are on standard error, one per line
    assert proc.stderr.count("按规则为") == 4


def test_csv_only_tampered_exits_1(tmp_path: Path) -> None:
    rec, rows = validity_case()
    publish(tmp_path, rec, rows)
    (tmp_path / "ballots.jsonl").unlink()
    path = tmp_path / "ballots.csv"
    path.write_bytes(path.read_bytes().replace("基本满意".encode(), "不满意".encode(), 1))
    proc = run_cli(tmp_path)
    assert proc.returncode == 1 and proc.stdout == "" and "ballots.csv" in proc.stderr


def test_edited_configuration_changes_fingerprint(tmp_path: Path) -> None:
    rec, rows = validity_case()
    fingerprint = publish(tmp_path, rec, rows)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["recount"]["campaign"]["threshold"] = "0.5"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
    proc = run_cli(tmp_path)
    # The ballot files still match; the count runs, but its fingerprint is not the published
    # one, and the stale fingerprint of the manifest is pointed out.
    assert proc.returncode == 0
    assert fingerprint not in proc.stderr.split("fingerprint: ")[1].splitlines()[0]
    assert "指纹" in proc.stderr
    assert json.loads(proc.stdout)["campaign"]["threshold"] == 0.5
