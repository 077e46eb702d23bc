"""The chat header and what it leads to: rename, the model and system prompt of one conversation,
the way back from a fork, and the notice when the next request would not fit the window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentterm.config import load_settings
from agentterm.llm import LLMClient
from agentterm.tui.screens.confirm import ChoiceScreen
from agentterm.tui.screens.model_picker import ModelPickerScreen
from agentterm.tui.screens.text_prompt import TextPromptScreen
from agentterm.tui.widgets.chat_header import ChatHeader
from agentterm.tui.widgets.conversation_list import InlineRename
from tests.app_helpers import make_app, seed_conversation, settle, until
from tests.openai_server import Stream


def header_text(app) -> str:
    return str(app.main_screen.chat_pane.query_one(ChatHeader).render())


@pytest.fixture
def windowed(config_path):
    with config_path.open("a", encoding="utf-8") as out:
        out.write("context_window = 1000\n")
    settings = load_settings(config_path)
    return settings, LLMClient(settings)


async def test_the_header_names_the_conversation_agent_model_and_context(settings, store, client, server):
    conversation = seed_conversation(store, "Garden plan", [("q", "a")], age=timedelta(minutes=5))
    helper = store.create_agent("Helper", model="helper-model")
    paused = store.create_conversation(agent_id=helper.id, title="With helper")
    store.set_agent_status(helper.id, "paused")
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        await until(pilot, lambda: "context" in header_text(app))
        text = header_text(app)
        assert "Garden plan" in text and "Assistant (active)" in text and "test-model" in text
        assert "34 tokens" in text  # 30 reported for the last answer, and the next request's framing
        await app.main_screen.open_conversation(paused.id)
        await settle(pilot)
        assert "Helper (paused)" in header_text(app) and "helper-model" in header_text(app)


async def test_a_click_on_the_title_renames_it_in_place(settings, store, client, server):
    conversation = seed_conversation(store, "Garden plan", [("q", "a")], age=timedelta(minutes=5))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        header = app.main_screen.chat_pane.query_one(ChatHeader)
        await header.run_action("header('rename')")  # what a click on the title runs
        await until(pilot, lambda: bool(app.screen.query(InlineRename)))
        rename = app.screen.query_one(InlineRename)
        rename.value = "Vegetables"
        await pilot.press("enter")
        await settle(pilot)
        assert store.get_conversation(conversation.id).title == "Vegetables"
        await until(pilot, lambda: "Vegetables" in header_text(app))


async def test_switching_the_model_changes_the_next_answers_not_the_agent(settings, store, client, server):
    conversation = seed_conversation(store, "Garden plan", [("q", "a")], age=timedelta(minutes=5))
    server.script(Stream("From the other model."))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, ModelPickerScreen))
        await pilot.press(*"other-model", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, ModelPickerScreen)
        assert store.get_conversation(conversation.id).model == "other-model"
        assert "other-model (this chat)" in header_text(app)
        await pilot.press(*"hello", "enter")
        await settle(pilot)
        assert server.requests[-1]["model"] == "other-model"
        answer = store.all_messages(conversation.id)[-1]
        assert answer.model == "other-model" and answer.content == "From the other model."
        assert store.default_agent().model != "other-model"
        # The answers before it keep the model that wrote them, and show it.
        first = store.all_messages(conversation.id)[1]
        view = app.main_screen.chat_pane.chat_view.view_for(first.id)
        assert "test-model" in str(view.query_one(".message-header").render())
        # Back to the agent's model: the first entry of the picker.
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, ModelPickerScreen))
        await until(pilot, lambda: not app.screen.loading)
        await pilot.press("enter")
        await settle(pilot)
        assert store.get_conversation(conversation.id).model is None
        assert "(this chat)" not in header_text(app)


async def test_the_picker_lists_the_providers_models(settings, store, client, server):
    conversation = seed_conversation(store, "Garden plan", [("q", "a")], age=timedelta(minutes=5))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        await app.main_screen.run_action("switch_model")  # the palette's "Switch model"
        await until(pilot, lambda: isinstance(app.screen, ModelPickerScreen) and not app.screen.loading)
        listed = {model for _provider, model in app.screen.choices}
        assert "test-model" in listed and set(server.models) <= listed
        other = next(m for m in server.models if m != "test-model")
        await pilot.press(*other[:6])
        await pilot.press("enter")
        await settle(pilot)
        assert store.get_conversation(conversation.id).model == other


async def test_a_system_prompt_of_its_own_is_sent_instead_of_the_agents(settings, store, client, server):
    conversation = seed_conversation(store, "Garden plan", [("q", "a")], age=timedelta(minutes=5))
    server.script(Stream("Arr."))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        app.screen.query_one("TextArea").text = "Talk like a pirate."
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert store.get_conversation(conversation.id).instructions_override == "Talk like a pirate."
        assert store.default_agent().instructions != "Talk like a pirate."
        await pilot.press(*"hello", "enter")
        await settle(pilot)
        assert server.requests[-1]["messages"][0] == {"role": "system", "content": "Talk like a pirate."}


async def test_a_fork_says_where_it_came_from_and_leads_back(settings, store, client, server):
    parent = seed_conversation(store, "Garden plan", [("q1", "a1"), ("q2", "a2")], age=timedelta(minutes=5))
    at = store.all_messages(parent.id)[1]
    fork = store.fork_conversation(parent.id, at.id)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.main_screen.open_conversation(fork.id)
        await settle(pilot)
        await until(pilot, lambda: "forked from Garden plan" in header_text(app))
        header = app.main_screen.chat_pane.query_one(ChatHeader)
        await header.run_action("header('open_parent')")  # the [back to it] click
        await settle(pilot)
        assert app.main_screen.open_conversation_id == parent.id
        assert "forked from" not in header_text(app)


def long_conversation(store):
    conversation = store.create_conversation(agent_id=store.default_agent().id, title="Long")
    for n in range(6):
        store.add_message(conversation.id, "user", f"question {n} " + "q" * 800)
        store.add_message(conversation.id, "assistant", f"answer {n} " + "a" * 800, model="test-model")
    return store.get_conversation(conversation.id)


async def test_too_long_asks_first_then_drops_the_oldest_turns_and_keeps_them(windowed, store, server):
    settings, client = windowed
    conversation = long_conversation(store)
    server.script(Stream("Fits now."))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        await until(pilot, lambda: app.main_screen.chat_pane.query_one(ChatHeader).has_class("-over"))
        await pilot.press(*"one more", "enter")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert "window of 1,000" in app.screen.body and "Nothing is deleted" in app.screen.body
        assert not server.requests and store.count_messages(conversation.id) == 12  # nothing sent yet
        assert app.main_screen.chat_pane.prompt_input.text == "one more"
        await pilot.press("1")  # drop the oldest turns and send
        await settle(pilot)
        messages = store.all_messages(conversation.id)
        assert len(messages) == 14 and messages[-1].content == "Fits now."
        sent = " ".join(str(m["content"]) for m in server.requests[-1]["messages"])
        assert "question 0" not in sent and "one more" in sent
        views = app.main_screen.chat_pane.chat_view.views
        start = store.get_conversation(conversation.id).context_from
        assert start == next(m.id for m in messages if m.content.startswith("question 5 "))
        assert any(v.has_class("-not-sent") for v in views)
        assert all(v.has_class("-not-sent") == (v.message.id < start) for v in views)


async def test_too_long_can_summarise_the_oldest_turns_into_a_message_shown(windowed, store, server):
    settings, client = windowed
    conversation = long_conversation(store)
    server.script(Stream("Six questions about q."), Stream("Fits now."))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        await pilot.press(*"one more", "enter")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("2")  # summarise them into one message and send
        await settle(pilot)
        summary = next(m for m in store.all_messages(conversation.id) if m.role == "system")
        assert summary.content == "Six questions about q."
        view = app.main_screen.chat_pane.chat_view.view_for(summary.id)
        assert view is not None and "Summary of" in str(view.query_one(".message-header").render())
        assert store.all_messages(conversation.id)[-1].content == "Fits now."


async def test_make_room_on_request_summarises_every_turn_but_the_newest(settings, store, client, server):
    conversation = seed_conversation(store, "Three", [("q1", "a1"), ("q2", "a2"), ("q3", "a3")],
                                     age=timedelta(minutes=5))
    server.script(Stream("Two questions, two answers."))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        await app.main_screen.run_action("make_room")  # the palette's "Make room in the context"
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("1")
        await until(pilot, lambda: any(m.role == "system" for m in store.all_messages(conversation.id)))
        await settle(pilot)
        summary = store.all_messages(conversation.id)[-1]
        assert summary.content == "Two questions, two answers." and summary.extra["summary"]["turns"] == 2
        chat = app.main_screen.chat_pane.chat_view
        await until(pilot, lambda: chat.view_for(summary.id) is not None)
        dimmed = [v.message.content for v in chat.views if v.has_class("-not-sent")]
        assert dimmed == ["q1", "a1", "q2", "a2"]
        assert len(store.all_messages(conversation.id)) == 7  # nothing deleted
