"""Shared fixtures: an isolated environment, a real store on disk, a loopback OpenAI server."""

from __future__ import annotations

from pathlib import Path

import pytest

TEST_KEY = "sk-test-MARKER-0123456789abcdef"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """No test reads or writes the real home, config or store, or sees a real key."""
    home = tmp_path_factory.mktemp("home")
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AGENTTERM_DB", "AGENTTERM_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("NO_COLOR", "1")
    return home


@pytest.fixture
def server():
    """A real HTTP server on 127.0.0.1 speaking the OpenAI streaming protocol, scriptable."""
    from tests.openai_server import FakeOpenAIServer

    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "data" / "agentterm.db"


# The store's own suite (tests/test_store_*.py, and store tests elsewhere marked both_backends)
# runs on both backends: the same tests, the `store` fixture opened on an SQLite file and on a
# PostgreSQL database of its own. A test of something only SQLite has (PRAGMAs, its trace
# callback, its file) is marked sqlite_only.
BACKENDS = ("sqlite", "postgres")


def pytest_generate_tests(metafunc):
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    marked = metafunc.definition.get_closest_marker("both_backends") is not None
    if "backend" in metafunc.fixturenames and (module.startswith("test_store") or marked):
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("backend", ["sqlite"] if sqlite_only else BACKENDS)


@pytest.fixture
def backend() -> str:
    """The store's backend; parametrised over both for tests/test_store_*.py."""
    return "sqlite"


@pytest.fixture
def store_target(request, backend, db_path):
    """Where the test's store lives: an SQLite file's path, or a fresh PostgreSQL database's URL."""
    if backend == "postgres":
        return request.getfixturevalue("pg_url")
    return db_path


@pytest.fixture
def store(store_target):
    from agentterm.store import Store

    st = Store(store_target)
    yield st
    st.close()


@pytest.fixture
def config_path(tmp_path, server, monkeypatch) -> Path:
    """A config whose default provider is the loopback server, its key in the environment."""
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        'default_provider = "local"\n'
        "\n"
        "[providers.local]\n"
        f'base_url = "{server.base_url}"\n'
        'api_key_env = "AGENTTERM_TEST_KEY"\n'
        'model = "test-model"\n'
        'title_model = "test-title-model"\n'
        "timeout = 5\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("AGENTTERM_TEST_KEY", TEST_KEY)
    return path


@pytest.fixture
def settings(config_path):
    from agentterm.config import load_settings

    return load_settings(config_path)


@pytest.fixture
def client(settings):
    from agentterm.llm import LLMClient

    return LLMClient(settings)


@pytest.fixture
def fast_client(settings):
    """A client whose provider gives up after half a second of silence."""
    from agentterm.llm import LLMClient

    settings.providers["local"].timeout = 0.5
    return LLMClient(settings)


@pytest.fixture(scope="session")
def pg_cluster():
    """A real PostgreSQL server for the session (tests/pg_helpers.py), stopped at the end.

    Missing binaries are installed first (.ci/install-postgres); failing that, the tests fail, never skip.
    """
    from tests.pg_helpers import PostgresCluster

    cluster = PostgresCluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster) -> str:
    """The URL of a fresh, empty PostgreSQL database of its own for one test."""
    return pg_cluster.create_database()
