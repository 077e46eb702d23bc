"""Links in answers: the confirmation shows what the browser gets; disguised links are refused (issue 8.11)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.style import Style

from agentterm.tui.screens.confirm import LinkScreen
from agentterm.tui.widgets.markdown_text import MarkdownText
from agentterm.tui.widgets.message import MessageView
from tests.app_helpers import make_app, seed_conversation, settle

SPOOF = "[the Python docs](https://docs.python.org%0A%0A%0A%0A%0A%0A%0A%0A@evil.example/tutorial)"


def link_actions(app) -> list[str]:
    """The click actions of every link shown in the open conversation, in order."""
    actions = []
    for widget in app.query(MarkdownText):
        for span in widget.render().spans:
            if isinstance(span.style, Style) and "@click" in span.style.meta:
                actions.append(span.style.meta["@click"])
    return actions


async def click_link(app, pilot, answer: str, monkeypatch) -> list[str]:
    store = app.store
    conversation = seed_conversation(store, "Links", [("a link?", answer)], age=timedelta(hours=1))
    opened: list[str] = []
    monkeypatch.setattr(app, "open_url", lambda url, **kw: opened.append(url))
    await app.main_screen.open_conversation(conversation.id)
    await settle(pilot)
    actions = link_actions(app)
    assert actions, "the answer shows no link"
    await app.query(MarkdownText).last().run_action(actions[0])  # what a click on it runs
    await pilot.pause()
    return opened


async def test_the_spoofed_link_of_the_issue_is_refused(settings, store, client, server, monkeypatch):
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        opened = await click_link(app, pilot, f"Read {SPOOF} first.", monkeypatch)
        assert not isinstance(app.screen, LinkScreen)
        notices = [n.message for n in app._notifications]
        assert any("encoded control characters" in n and "not opened" in n for n in notices), notices
        assert opened == []


@pytest.mark.parametrize("url, why", [
    ("https://user:secret@docs.python.org/", "user name or password"),
    ("https://docs.python.org@evil.example/", "user name or password"),
    ("ftp://files.example/x", "Only http and https"),
    ("https://docs.python.org/%09tab", "encoded control"),
    ("https://docs.python.org/%00nul", "encoded control"),
    ("https://docs.python.org/%0d%0aheader", "encoded control"),
    ("https://docs.python.org/%E2%80%AEfdp.exe", "encoded control"),
])
async def test_disguised_links_are_refused(settings, store, client, server, monkeypatch, url, why):
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        opened = await click_link(app, pilot, f"See <{url}>.", monkeypatch)
        assert not isinstance(app.screen, LinkScreen)
        assert any(why in n.message for n in app._notifications)
        assert opened == []


async def test_a_raw_control_character_in_a_link_is_refused(settings, store, client, server):
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.main_screen.chat_pane.post_message(
            MessageView.LinkOpenRequested("https://docs.python.org\n\n@evil.example/"))
        await pilot.pause()
        assert not isinstance(app.screen, LinkScreen)
        assert any("control characters" in n.message for n in app._notifications)


async def test_the_confirmation_names_the_host_and_opens_exactly_what_it_shows(
        settings, store, client, server, monkeypatch):
    app = make_app(settings, store, client)
    url = "https://docs.python.org/3/tutorial/" + "x" * 120 + "?q=%C3%A9"
    async with app.run_test(size=(120, 40)) as pilot:
        opened = await click_link(app, pilot, f"See [docs]({url}).", monkeypatch)
        assert isinstance(app.screen, LinkScreen)
        assert app.screen.host == "docs.python.org" and app.screen.url == url
        shown = app.screen.query_one("#link-host").render()
        assert str(shown) == "Host: docs.python.org"
        line = app.screen.query_one("#link-url Static")
        assert str(line.render()) == url and line.size.height == 1  # one line, never wrapped
        await pilot.press("enter")
        await pilot.pause()
        assert opened == [url]
