"""The LLM client never shows the key: not in errors, tracebacks, reprs or title failures."""

from __future__ import annotations

import io
import traceback

import pytest

from agentterm.llm import AuthFailed, LLMClient, LLMError, Unreachable
from tests.conftest import TEST_KEY
from tests.llm_helpers import collect, free_port
from tests.openai_server import Error, Raw, Stream

# --- the key is never shown --------------------------------------------------------------------

FAULTS = [
    # Servers do echo keys; the key comes first so that no truncated repr can hide it.
    Error(401, f"{TEST_KEY} is not a valid key"),
    Error(403, f"{TEST_KEY} may not use this model"),
    Error(404, f"{TEST_KEY} has no such model"),
    Error(429, f"{TEST_KEY} is going too fast", headers={"Retry-After": "1"}),
    Error(500, f"{TEST_KEY} crashed the server"),
    Error(400, body=f"{TEST_KEY} plain text"),
    Stream("abc", drop_after=1),
    Stream("abc", error_event_after=1, error_message=f"{TEST_KEY} bad key"),
    Stream("abc", done=False, finish_reason=None),
    Stream("abc", stall_after=1),
    Raw(),
    Raw(200, f"{{{TEST_KEY}", "application/json"),
    Raw(200, f'{{"error": "{TEST_KEY} rejected"}}', "application/json"),
]


def assert_no_key(error: BaseException) -> None:
    from rich.console import Console
    from rich.traceback import Traceback

    shown = [str(error), repr(error), getattr(error, "hint", ""), str(getattr(error, "to_dict", dict)())]
    shown.append("".join(traceback.format_exception(error)))
    console = Console(file=io.StringIO(), width=200)
    console.print(Traceback.from_exception(type(error), error, error.__traceback__, show_locals=True))
    shown.append(console.file.getvalue())
    pieces = [TEST_KEY[i : i + 8] for i in range(len("sk-test-"), len(TEST_KEY) - 7)]
    for text in shown:
        assert not [piece for piece in pieces if piece in text], text


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: type(f).__name__ + str(getattr(f, "status", "")))
async def test_the_key_never_appears_in_an_error(fast_client, server, fault):
    server.script(fault)
    _, error = await collect(fast_client)
    assert isinstance(error, LLMError)
    assert_no_key(error)


async def test_the_key_never_appears_for_unreachable_and_bad_urls(settings):
    settings.providers["local"].base_url = f"http://127.0.0.1:{free_port()}/v1"
    _, error = await collect(LLMClient(settings))
    assert isinstance(error, Unreachable)
    assert_no_key(error)
    settings.providers["local"].base_url = "http://[::1"
    _, error = await collect(LLMClient(settings))
    assert isinstance(error, Unreachable)
    assert_no_key(error)


async def test_the_key_never_appears_in_a_title_error(client, server):
    server.script(Error(401, f"bad {TEST_KEY}"))
    with pytest.raises(AuthFailed) as caught:
        await client.generate_title("hi", "hello")
    assert_no_key(caught.value)


def test_the_client_does_not_show_the_key_in_its_repr(client, settings):
    assert TEST_KEY not in repr(client) and TEST_KEY not in repr(settings)
