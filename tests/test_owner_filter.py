"""The app and the CLI are the local user's (issue 10.3): conversations and agents other users
made through `agentterm serve` are not in the sidebar, search, the dashboard, `chats list`,
`chats search` or `agents list`; the local user's own (no owner, or owner = the local user) and
shared agents are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from tests.app_helpers import make_app, seed_conversation, settle

LOCAL = "ada"  # `user` in the config: the app's and the CLI's user


def seed(store):
    """Four conversations, all with the word 'lighthouse': the app's (no owner), ada's through
    the API, and bob's; three agents: bob's own, bob's shared, and the seeded one."""
    agent = store.default_agent().id
    app_made = seed_conversation(store, "Lighthouse from the app", [("the lighthouse?", "yes")],
                                 age=timedelta(hours=3))
    own = store.create_owned_conversation(agent, LOCAL, "ada-1")
    store.rename_conversation(own.id, "Lighthouse via ada's token")
    store.add_message(own.id, "user", "lighthouse keeper")
    foreign = store.create_owned_conversation(agent, "bob", "bob-1")
    store.rename_conversation(foreign.id, "Lighthouse of bob")
    store.add_message(foreign.id, "user", "bob's lighthouse secret")
    trashed = store.create_owned_conversation(agent, "bob", "bob-2")
    store.trash(trashed.id)
    store.set_agent_owner(store.create_agent("Bobs-own").id, "bob")
    store.set_agent_owner(store.create_agent("Bobs-shared").id, "bob", shared=True)
    return app_made, own, foreign, trashed


def _config_with_user(config_path):
    config_path.write_text(f'user = "{LOCAL}"\n' + config_path.read_text())  # top level, before the tables


@pytest.mark.both_backends
def test_the_store_lists_only_what_the_local_user_sees(store):
    app_made, own, foreign, trashed = seed(store)
    assert {c.id for c in store.list_conversations(view="all", owner=LOCAL)} == {app_made.id, own.id}
    assert {c.id for c in store.list_conversations(view="all")} == {app_made.id, own.id, foreign.id}
    assert store.list_conversations(view="trash", owner=LOCAL) == []
    assert store.count_conversations("inbox", owner=LOCAL) == 2
    assert {h.conversation_id for h in store.search("lighthouse", owner=LOCAL)} == {app_made.id, own.id}
    assert foreign.id in {h.conversation_id for h in store.search("lighthouse")}
    assert [a.name for a in store.list_agents(owner=LOCAL)] == ["Assistant", "Bobs-shared"]
    stats = store.stats(owner=LOCAL)
    assert stats["conversations"] == 2 and stats["trashed"] == 0 and stats["agents"]["active"] == 2
    assert store.stats()["conversations"] == 3


async def test_the_app_shows_none_of_another_users_conversations_or_agents(config_path, store, client, server):
    from agentterm.config import load_settings

    _config_with_user(config_path)
    settings = load_settings(config_path)
    app_made, own, foreign, _ = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.main_screen
        assert {c.id for c in screen.sidebar.conversations} == {app_made.id, own.id}
        home = str(screen.home.query_one("#home-agents").render())
        assert "Assistant" in home and "Bobs-shared" in home and "Bobs-own" not in home
        assert "2 conversations" in str(screen.home.query_one("#home-counts").render())
        recent = screen.home.query_one("#home-recent")
        assert {recent.get_option_at_index(i).id for i in range(recent.option_count)} == {
            f"c:{app_made.id}", f"c:{own.id}"}
        await pilot.press("ctrl+f")
        await pilot.press(*"lighthouse", "enter")
        await settle(pilot)
        assert {h.conversation_id for h in screen.sidebar.hits} == {app_made.id, own.id}


def test_the_cli_lists_and_searches_only_the_local_users(config_path, db_path, store):
    _config_with_user(config_path)
    app_made, own, foreign, trashed = seed(store)
    env = {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path)}

    def cli(*args):
        done = subprocess.run([sys.executable, "-m", "agentterm", *args, "--json"], capture_output=True,
                              text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert {c["id"] for c in cli("chats", "list", "--view", "all")} == {app_made.id, own.id}
    assert cli("chats", "list", "--view", "trash") == []
    assert {h["conversation_id"] for h in cli("chats", "search", "lighthouse")} == {app_made.id, own.id}
    assert [a["name"] for a in cli("agents", "list", "--all")] == ["Assistant", "Bobs-shared"]
