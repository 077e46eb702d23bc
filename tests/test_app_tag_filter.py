"""The sidebar's filter: `#tag` words list the conversations with those tags, ignoring case,
combined with the title text typed beside them."""

from __future__ import annotations

from datetime import timedelta

from agentterm.tui.widgets.conversation_list import split_filter
from tests.app_helpers import make_app, option_ids, seed_conversation, until


def seed_tagged(store):
    py = seed_conversation(store, "Async in Python", [("q", "a")], age=timedelta(days=1))
    py2 = seed_conversation(store, "Packaging woes", [("q", "a")], age=timedelta(days=2))
    rust = seed_conversation(store, "Async in Rust", [("q", "a")], age=timedelta(days=3))
    store.set_tags(py.id, ["Python", "work"])
    store.set_tags(py2.id, ["python"])
    store.set_tags(rust.id, ["rust", "work"])
    return py, py2, rust


def test_split_filter_takes_the_hash_words_as_tags():
    assert split_filter("#Python  async #work") == (["Python", "work"], "async")
    assert split_filter("C# tips") == ([], "C# tips")
    assert split_filter("# alone") == ([], "# alone")


def test_store_lists_by_several_tags_ignoring_case(store):
    py, py2, rust = seed_tagged(store)
    assert {c.id for c in store.list_conversations(tag="PYTHON")} == {py.id, py2.id}
    assert [c.id for c in store.list_conversations(tag=["python", "WORK"])] == [py.id]
    assert [c.id for c in store.list_conversations(tag=["work"], query="rust")] == [rust.id]


async def type_filter(app, pilot, text: str) -> None:
    sidebar = app.main_screen.sidebar
    sidebar.filter_input.focus()
    await pilot.pause()
    sidebar.filter_input.value = ""
    await pilot.press(*text)


async def test_hash_tag_in_the_filter_lists_that_tag_ignoring_case(settings, store, client, server):
    py, py2, rust = seed_tagged(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: len(option_ids(app)) == 3)

        await type_filter(app, pilot, "#PyThOn")
        await until(pilot, lambda: set(option_ids(app)) == {py.id, py2.id})

        # With title text beside it: both must hold.
        await type_filter(app, pilot, "#work async")
        await until(pilot, lambda: set(option_ids(app)) == {py.id, rust.id})
        await type_filter(app, pilot, "rust #WORK")
        await until(pilot, lambda: option_ids(app) == [rust.id])

        # A tag nobody has: an empty list saying so, not every conversation.
        await type_filter(app, pilot, "#nosuch")
        await until(pilot, lambda: option_ids(app) == [])
        sidebar = app.main_screen.sidebar
        assert "#nosuch" in str(sidebar.options.get_option_at_index(0).prompt)

        # Enter with only tags searches nothing: the list of them keeps its place.
        await type_filter(app, pilot, "#rust")
        await until(pilot, lambda: option_ids(app) == [rust.id])
        await pilot.press("enter")
        await pilot.pause()
        assert sidebar.hits is None and option_ids(app) == [rust.id]
