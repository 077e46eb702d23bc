"""Conversation titles: the title request, and cleaning what the model wrote."""

from __future__ import annotations

import pytest

from agentterm.llm import BadResponse, ServerError, clean_title, fallback_title
from tests.openai_server import Complete, Error, Hang, Raw, Stream

# --- titles ------------------------------------------------------------------------------------


async def test_generate_title_asks_the_title_model_without_streaming(client, server):
    server.script(Complete('"Python Decorators Explained."'))
    title = await client.generate_title("How do decorators work in Python?", "They wrap functions.")
    assert title == "Python Decorators Explained"
    body = server.requests[0]
    assert body["model"] == "test-title-model" and not body.get("stream")
    assert body["messages"][0]["role"] == "system"
    assert "How do decorators work in Python?" in body["messages"][1]["content"]
    assert "They wrap functions." in body["messages"][1]["content"]


async def test_generate_title_uses_the_model_when_no_title_model(client, server, settings):
    settings.providers["local"].title_model = None
    await client.generate_title("hi", "hello")
    assert server.requests[0]["model"] == "test-model"


async def test_generate_title_falls_back_on_an_empty_answer(client, server):
    server.script(Complete("   \n"))
    assert await client.generate_title("Plan a trip to Lisbon\nin May", "Sure.") == "Plan a trip to Lisbon"


async def test_generate_title_from_a_stream_script_and_junk(client, server):
    server.script(Stream("Trip Planning"), Complete("***"))
    assert await client.generate_title("a", "b") == "Trip Planning"
    assert await client.generate_title("Fallback words here", "b") == "Fallback words here"


async def test_generate_title_faults_raise(client, server):
    server.script(Raw(), Error(500, "down"))
    with pytest.raises(BadResponse):
        await client.generate_title("a", "b")
    with pytest.raises(ServerError):
        await client.generate_title("a", "b")


@pytest.mark.parametrize("raw,expected", [
    ('"Quoted Title"', "Quoted Title"),
    ("“Curly quotes here”", "Curly quotes here"),
    ("'Single quoted title'", "Single quoted title"),
    ("Title: Rust Borrow Checker", "Rust Borrow Checker"),
    ("## **Bold Markdown Heading**", "Bold Markdown Heading"),
    ("[b]Rich[/b] [red]markup[/red] title", "Rich markup title"),
    ("[link=https://evil.example]Click me[/link] now", "Click me now"),
    ("<b>HTML</b> tags <i>removed</i>", "HTML tags removed"),
    ("[Markdown link](https://x.example) title", "Markdown link title"),
    ("Bell\x07 and \x1b[31mred\x1b[0m text", "Bell and red text"),
    ("Tab\tand\x00nul chars", "Tab and nul chars"),
    ("First line title\nSecond line ignored", "First line title"),
    ("\n\n  Leading blank lines  \n", "Leading blank lines"),
    ("<think>Let me think about it a lot</think>\nGarden Watering Schedule", "Garden Watering Schedule"),
    (" ".join(f"word{i}" for i in range(20)), "word0 word1 word2 word3 word4 word5"),
    ("Python's decorators explained", "Python's decorators explained"),
    ("C++ templates", "C++ templates"),
    ("Sure! Here's a title: Sourdough Starter Care", "Sourdough Starter Care"),
    ("Here is a concise title:\n\n**Sourdough Starter Care**", "Sourdough Starter Care"),
    ("Subtitle Editing Workflow", "Subtitle Editing Workflow"),
])
def test_clean_title(raw, expected):
    assert clean_title(raw, fallback="FALLBACK") == expected


@pytest.mark.parametrize("raw", ["", "   ", "\n\n", '""', "***", "...", "[b][/b]", "\x1b[2J", None])
def test_clean_title_falls_back_on_junk(raw):
    assert clean_title(raw, fallback="The fallback") == "The fallback"


def test_clean_title_caps_length():
    title = clean_title("Supercalifragilisticexpialidocious " * 6, fallback="x")
    assert len(title) <= 60 and title.endswith("…")
    assert len(clean_title("x", fallback="y" * 100)) <= 60


def test_fallback_title():
    assert fallback_title("\n\n  What is   the answer?  \nmore") == "What is the answer?"
    long = fallback_title("word " * 40)
    assert len(long) <= 60 and long.endswith("…") and long.startswith("word word")
    assert fallback_title("") == "New conversation"
    assert fallback_title("\x1b]52;c;ZXZpbA==\x07Copy this\x07") == "Copy this"


# --- titles never hold the server (issue 13.5) -------------------------------------------------


async def test_a_title_asks_for_a_few_tokens(client, server):
    await client.generate_title("hi", "hello")
    assert server.requests[0]["max_tokens"] == 30


async def test_a_title_gives_up_after_its_timeout_without_a_retry(client, server, settings):
    import time

    from agentterm.llm import RequestTimeout

    settings.providers["local"].title_timeout = 0.5
    server.script(Hang(10))
    started = time.monotonic()
    with pytest.raises(RequestTimeout) as caught:
        await client.generate_title("hi", "hello")
    assert time.monotonic() - started < 3
    assert "No title from" in caught.value.message and "0.5 s" in caught.value.message
    assert len(server.requests) == 1


async def test_the_title_timeout_is_read_from_the_config(tmp_path):
    from agentterm.config import load_settings

    path = tmp_path / "c.toml"
    path.write_text('[providers.openai]\nmodel = "m"\ntitle_timeout = 2.5\n', encoding="utf-8")
    assert load_settings(path).provider("openai").title_timeout == 2.5
    path.write_text('[providers.openai]\nmodel = "m"\n', encoding="utf-8")
    assert load_settings(path).provider("openai").title_timeout == 10


async def test_cancelling_a_title_closes_its_request_at_once(client, server):
    import asyncio
    import time

    server.script(Hang(10))
    task = asyncio.create_task(client.generate_title("hi", "hello"))
    assert await asyncio.to_thread(server.wait_for_requests, 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    cancelled = time.monotonic()
    assert await asyncio.to_thread(server.client_disconnected.wait, 2)
    assert time.monotonic() - cancelled < 1


async def test_a_title_holding_the_key_thinking_or_odd_text_is_cleaned(client, server):
    from tests.conftest import TEST_KEY

    server.script(Complete(f"{TEST_KEY} Leaked Key Title"),
                  Raw(200, '{"choices": [{"message": {"content": "<think>hmm</think>Garden Plans",'
                           ' "reasoning_content": "ignore me"}}]}', "application/json"),
                  Raw(200, '{"choices": [{"message": {"content": [{"type": "text", "text": "Part\\ud800s"}]}}]}',
                      "application/json"),
                  Complete(""))
    assert TEST_KEY not in await client.generate_title("hi", "hello")
    assert await client.generate_title("hi", "hello") == "Garden Plans"
    assert await client.generate_title("hi", "hello") == "Part\ufffds"
    assert await client.generate_title("Fallback prompt", "hello") == "Fallback prompt"
