"""`recount` stands alone (issue 20): standard library only, nothing of the project, and it
runs in an interpreter that cannot see any installed package."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import PROJECT

ALLOWED = set(sys.stdlib_module_names) | {"recount", "__future__"}


def test_recount_imports_only_the_standard_library_and_itself():
    files = sorted((PROJECT / "recount").glob("*.py"))
    assert files
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [] if node.level else [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in ALLOWED, f"{path.name}:{node.lineno} imports {name}"


def test_recount_runs_without_site_packages(tmp_path):
    """`-S`: no site-packages, so no Django and nothing pip installed is importable."""
    done = subprocess.run(
        [sys.executable, "-S", "-c", "import recount, recount.cli; import django"],
        cwd=PROJECT, capture_output=True, text=True, check=False)
    assert "No module named 'django'" in done.stderr  # recount itself imported fine
    done = subprocess.run([sys.executable, "-S", "-m", "recount", str(tmp_path / "missing")],
                          cwd=PROJECT, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and done.stdout == ""
