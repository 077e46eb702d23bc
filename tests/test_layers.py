"""The layer rule holds: import-linter's contracts (pyproject.toml) and what an import really loads."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "pyproject.toml"

# The core: the packages a server, the SDK or a script use without the app. engine and tools
# are being written; each is checked as soon as it exists.
CORE = ("agentterm", "agentterm.models", "agentterm.config", "agentterm.store", "agentterm.llm",
        "agentterm.engine", "agentterm.tools", "agentterm.cli")


def lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))")
    return subprocess.run([sys.executable, "-c", code, str(CONFIG)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_every_layer_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# Each arrow pointing back up, written into a copy of the package, must break the contract that
# forbids it: contracts that can no longer fail (a renamed package, a typo) fail this test.
VIOLATIONS = {
    "store/_up.py": ("from agentterm.tui import app", "Only the app imports the app"),
    "models_up.py": ("import textual", "Only the app (agentterm.tui) imports Textual"),
    "llm/_up.py": ("from agentterm import store", "The LLM client never imports the store"),
    "store/_client.py": ("import agentterm.llm", "The store never imports the client, the engine or the tools"),
    "store/_tools.py": ("from agentterm.tools import x", "The store never imports the client, the engine or the tools"),
    "engine/_cli.py": ("from agentterm.cli import main", "The core never imports the command line or the app"),
    "tools/_tui.py": ("import agentterm.tui.app", "The core never imports the command line or the app"),
    "cli/_widget.py": ("from agentterm.tui.widgets import home", "Only the app imports the app"),
}


def test_each_arrow_pointing_back_up_breaks_its_contract(tmp_path):
    package = tmp_path / "agentterm"
    shutil.copytree(ROOT / "agentterm", package, ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("engine", "tools"):
        (package / folder).mkdir(exist_ok=True)
        (package / folder / "__init__.py").touch()
    for path, (line, _) in VIOLATIONS.items():
        (package / path).write_text(line + "\n")
    result = lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    for path, (line, contract) in VIOLATIONS.items():
        module = "agentterm." + path.removesuffix(".py").replace("/", ".")
        assert contract in broken, f"{module}: {line!r} broke nothing"
        assert module in broken, f"{module}: {line!r} was not reported"


# Run in a fresh interpreter: this test process has imported Textual already.
IMPORTS = textwrap.dedent(
    """
    import importlib, json, sys
    loaded = {}
    for name in sys.argv[1:]:
        importlib.import_module(name)
        loaded[name] = sorted({m.split(".")[0] for m in sys.modules} & {"textual", "openai", "mcp"})
    print(json.dumps(loaded))
    """
)


@pytest.mark.parametrize("name", CORE)
def test_importing_the_core_loads_no_textual(name):
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} does not exist yet")
    result = subprocess.run([sys.executable, "-c", IMPORTS, name], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])[name]
    # Nor openai or mcp: each is imported by the first request that needs it.
    assert loaded == [], f"importing {name} loaded {loaded}"
