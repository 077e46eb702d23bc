"""The command line as a subprocess on a real store in tmp_path, with no provider configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


@pytest.fixture
def cli(tmp_path, db_path):
    """Run `python -m agentterm ARGS`; check=True asserts exit 0, every run asserts no traceback."""

    def cli(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(tmp_path / "none.toml")}
        result = subprocess.run([sys.executable, "-m", "agentterm", *args], input=stdin,
                                capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
        if check:
            assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr and "bug" not in result.stderr
        return result

    return cli


def one_error(result: subprocess.CompletedProcess) -> str:
    """The failure's one line on stderr, after checking it failed and said nothing else."""
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("agentterm: error: ")
    return lines[0]


def as_json(result: subprocess.CompletedProcess):
    return json.loads(result.stdout)
