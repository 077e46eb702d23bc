"""The tool call block, the thinking block and the approval question, each on its own."""

from __future__ import annotations

import re

from textual.app import App, ComposeResult

from agentterm.models import ToolCall
from agentterm.tui.screens.approval import ApprovalScreen
from agentterm.tui.widgets.thinking import ThinkingView
from agentterm.tui.widgets.tool_call import ToolCallView, short_arguments
from tests.app_helpers import until


def make_call(**fields) -> ToolCall:
    values = dict(id=1, message_id=1, call_id="call_1", index=0, name="time_now", server="time",
                  tool="now", arguments='{"zone": "UTC"}', status="running")
    values.update(fields)
    return ToolCall(**values)


class OneWidget(App):
    def __init__(self, widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


def test_short_arguments_reads_as_keywords_and_keeps_bad_json_as_text():
    assert short_arguments('{"zone": "UTC", "n": 2}') == 'zone="UTC", n=2'
    assert short_arguments('{"zone": ') == '{"zone":'
    assert short_arguments('{"text": "' + "x" * 200 + '"}').endswith("…")


async def test_a_call_shows_its_name_server_arguments_and_status():
    view = ToolCallView(make_call())
    async with OneWidget(view).run_test() as pilot:
        text = view.shown_text
        assert text.startswith("⚙ now · time (") and 'zone="UTC"' in text
        assert re.search(r"running \d+s", text)  # the elapsed time, counted from the start
        view.update_call(make_call(status="done", result="12:00"))
        await pilot.pause()
        assert "done" in view.shown_text and "12:00" in view.shown_text
        view.update_call(make_call(status="denied", reason="not now"))
        assert "denied: not now" in view.shown_text
        view.update_call(make_call(status="failed", error="the server died"))
        assert "failed: the server died" in view.shown_text
        assert view.has_class("-failed") and not view.has_class("-denied")


async def test_a_long_result_is_folded_and_unfolds_by_click_and_key():
    result = "\n".join(f"line {n}" for n in range(1, 11))
    view = ToolCallView(make_call(status="done", result=result))
    async with OneWidget(view).run_test() as pilot:
        assert "line 4" in view.shown_text and "line 5" not in view.shown_text
        assert "6 more line(s)" in view.shown_text
        await pilot.click(ToolCallView)
        assert "line 10" in view.shown_text
        view.focus()
        await pilot.press("enter")
        assert "line 10" not in view.shown_text


async def test_a_result_is_text_never_markup_and_loses_its_escapes():
    hostile = "[bold red]boom[/] [@click=app.quit]x[/]\x1b]52;c;aGk=\x07 done\x1b[2J"
    view = ToolCallView(make_call(status="done", result=hostile, tool="[b]x[/b]"))
    async with OneWidget(view).run_test():
        text = view.shown_text
        assert "[bold red]boom[/] [@click=app.quit]x[/]" in text
        assert "[b]x[/b]" in text
        assert "\x1b" not in text and "aGk=" not in text


async def test_thinking_is_live_then_folds_when_the_answer_starts_and_unfolds():
    view = ThinkingView(live=True)
    async with OneWidget(view).run_test() as pilot:
        for n in range(1, 21):
            view.write(f"step {n} [i]not markup[/i]\n")
        await until(pilot, lambda: "step 20" in view.shown_text)
        text = view.shown_text
        assert text.startswith("Thinking…")
        assert "step 1 " not in text  # only the newest lines while it thinks
        assert "[i]not markup[/i]" in text
        view.finish()
        assert view.shown_text.startswith("▸ Thought") and "step 20" not in view.shown_text
        await pilot.click(ThinkingView)
        assert "step 1 " in view.shown_text and "step 20" in view.shown_text
        await pilot.click(ThinkingView)
        assert "step 20" not in view.shown_text


class AskingApp(App):
    def __init__(self, call, **options) -> None:
        super().__init__()
        self.call = call
        self.options = options
        self.answers: list = []

    def on_mount(self) -> None:
        self.push_screen(ApprovalScreen(self.call, agent_name="Helper", **self.options),
                         self.answers.append)


async def test_keys_typed_as_the_question_appears_do_not_answer_it():
    # A delay no slow machine reaches: the keys below are surely typed before it.
    app = AskingApp(make_call(status="approval", arguments='{"path": "/etc/passwd"}'),
                    arm_delay=3600)
    async with app.run_test() as pilot:
        screen = app.screen
        assert isinstance(screen, ApprovalScreen)
        await pilot.press("y", "a", "n")
        assert app.answers == [] and screen.ignored_keys == 3
        assert app.screen is screen and not screen.has_class("-denying")
        screen.arm()  # what the timer does once the delay is over
        await pilot.press("y")
        assert app.answers == [("once", None)]


async def test_the_question_arms_itself_after_its_delay():
    app = AskingApp(make_call(status="approval"))
    async with app.run_test() as pilot:
        screen = app.screen
        assert screen.arm_delay == 0.5
        await until(pilot, lambda: screen.armed)
        await pilot.press("y")
        assert app.answers == [("once", None)]


async def test_always_and_deny_with_a_reason_and_escape_stops():
    for keys, expected in ((("a",), ("always", None)),
                           (("n", *"too risky", "enter"), ("deny", "too risky")),
                           (("n", "enter"), ("deny", None)),
                           (("escape",), None)):
        app = AskingApp(make_call(status="approval"))
        async with app.run_test() as pilot:
            screen = app.screen
            await until(pilot, lambda: screen.armed)
            await pilot.press(*keys)
            await pilot.pause()
            assert app.answers == [expected], keys


async def test_the_question_shows_the_arguments_as_pretty_text():
    call = make_call(status="approval", arguments='{"cmd": "[red]rm[/] -rf", "n": 1}')
    app = AskingApp(call)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        shown = str(app.screen.query_one("#approval-args-text").render())
        assert shown == '{\n  "cmd": "[red]rm[/] -rf",\n  "n": 1\n}'
        keys = str(app.screen.query_one("#approval-keys").render())
        assert "always allow time.now for Helper" in keys


async def test_live_thinking_in_one_long_paragraph_shows_only_its_end():
    view = ThinkingView(live=True)
    async with OneWidget(view).run_test() as pilot:
        for n in range(2000):
            view.write(f"step {n} of one long thought; ")
        await until(pilot, lambda: "step 1999 " in view.shown_text)
        assert len(view.shown_text) < 1300 and "step 0 " not in view.shown_text
        view.finish()
        assert "· 12,000 words" in view.shown_text  # the whole of it is kept
