"""What a conversation says about its agent and its answers: deleted, retired, cut (issue 8.23-8.25, 8.27)."""

from __future__ import annotations

from datetime import timedelta

from textual.style import Style

from agentterm.tui.screens.agent_picker import AgentPickerScreen
from agentterm.tui.screens.confirm import ChoiceScreen
from agentterm.tui.widgets.chat_header import ChatHeader
from agentterm.tui.widgets.status_line import StatusLine
from tests.app_helpers import make_app, seed_conversation, settle, until
from tests.openai_server import Complete, Stream


def status_text(app) -> str:
    """What the pane says of its agent and model (the header) and of now (the status line)."""
    pane = app.main_screen.chat_pane
    return f"{pane.query_one(ChatHeader).render()} {pane.query_one(StatusLine).render()}"


def click_actions(widget) -> list[str]:
    """The actions a click on the widget's words runs, in order."""
    actions = []
    for span in widget.render().spans:
        style = Style.parse(span.style) if isinstance(span.style, str) else span.style
        if "@click" in style.meta:
            actions.append(style.meta["@click"])
    return actions


async def test_a_deleted_agent_is_said_to_be_gone_and_what_is_used_now(settings, store, client, server):
    helper = store.create_agent("Helper", model="helper-model")
    conversation = store.create_conversation(agent_id=helper.id, title="With helper")
    store.add_message(conversation.id, "user", "hi")
    store.delete_agent(helper.id, keep_conversations=True)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        status = status_text(app)
        assert "Helper (deleted)" in status and "default settings" in status
        assert "test-model" in status and "helper-model" not in status  # what requests use now
        # A conversation moved to no agent on purpose has no name left: nothing is said gone.
        store.relink_conversation(conversation.id, None)
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        assert "deleted" not in status_text(app)


async def test_the_move_dialog_is_titled_for_moving(settings, store, client, server):
    conversation = seed_conversation(store, "To move", [("q", "a")], age=timedelta(hours=1))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await app.main_screen.run_action("move")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, AgentPickerScreen)
        assert str(picker.query_one("#picker-title").render()) == "Move to agent"
        assert str(picker.query_one("#picker-hint").render()) == "enter moves it here · esc cancel"
        assert "(current)" in str(picker.query_one("#picker-agents").get_option_at_index(1).prompt)


async def test_a_cut_answer_offers_retry_and_continue_and_continue_extends_it(
        settings, store, client, server):
    conversation = seed_conversation(store, "Cut", [], age=timedelta(hours=1))
    server.script(Stream("The first part of the answer, and", chunk_size=4, drop_after=3),
                  Stream(" the rest of it.", chunk_size=4))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await pilot.press(*"tell me", "enter")
        await settle(pilot)
        answer = store.all_messages(conversation.id)[-1]
        assert answer.status == "error" and answer.content
        view = app.main_screen.chat_pane.chat_view.view_for(answer.id)
        status = view.query_one(".message-status")
        assert click_actions(status) == ["request('retry')", "request('continue')"]
        assert "request('continue')" in click_actions(view.query_one(".message-header"))
        await status.run_action("request('continue')")  # what a click on [continue] runs
        await settle(pilot)
        messages = store.all_messages(conversation.id)
        assert messages[-1].id == answer.id and messages[-1].status == "complete"
        assert messages[-1].content == answer.content + " the rest of it."


async def test_a_retired_agent_refuses_to_send_and_offers_to_move(settings, store, client, server):
    retired = store.create_agent("Old hand")
    conversation = store.create_conversation(agent_id=retired.id, title="Old chat")
    store.set_agent_status(retired.id, "inactive")
    server.script(Stream("Hello from the default.", chunk_size=5), Complete("t"))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        assert "agent retired" in status_text(app)
        await pilot.press(*"hello", "enter")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert "retired" in str(app.screen.dialog_title)
        assert server.requests == [] and store.all_messages(conversation.id) == []
        await pilot.press("1")  # move the conversation
        await until(pilot, lambda: isinstance(app.screen, AgentPickerScreen))
        await pilot.press(*"no agent", "enter")
        await settle(pilot)
        assert store.get_conversation(conversation.id).agent_id is None
        assert app.main_screen.chat_pane.prompt_input.text == "hello"  # kept to send
        await pilot.press("enter")
        await settle(pilot)
        assert [m.content for m in store.all_messages(conversation.id)] == [
            "hello", "Hello from the default."]
