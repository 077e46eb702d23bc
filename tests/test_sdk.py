"""AgentTermSession: the Agents SDK's session over a real store, and the SDK's Runner on it."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest

from agentterm.sdk import AgentTermSession
from agentterm.store import Store
from tests.openai_server import Complete

USER = {"role": "user", "content": "What is the weather in Paris?"}
SYSTEM = {"role": "system", "content": "Be brief."}
USER_PARTS = {
    "type": "message",
    "role": "user",
    "content": [{"type": "input_text", "text": "and in "}, {"type": "input_text", "text": "Rome?"}],
}
CALL = {
    "type": "function_call",
    "id": "fc_1",
    "call_id": "call_1",
    "name": "get_weather",
    "arguments": '{"city": "Paris"}',
    "status": "completed",
}
OUTPUT = {"type": "function_call_output", "call_id": "call_1", "output": "18°C, sunny"}
REASONING = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [{"type": "summary_text", "text": "The tool answered."}],
}
ANSWER = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "status": "completed",
    "content": [{"type": "output_text", "text": "It is 18°C and sunny.", "annotations": []}],
}
ITEMS = [SYSTEM, USER, CALL, OUTPUT, REASONING, ANSWER, USER_PARTS]


def messages_of(db_path, key: str):
    with Store(db_path) as store:
        [conversation] = [c for c in store.list_conversations()
                          if store.conversation_session_key(c.id) == key]
        return conversation, store.all_messages(conversation.id)


async def test_every_item_type_round_trips_exactly_and_reads_as_messages(db_path):
    session = AgentTermSession("chat-1", db=db_path)
    assert await session.get_items() == []
    await session.add_items(copy.deepcopy(ITEMS[:3]))
    await session.add_items(copy.deepcopy(ITEMS[3:]))

    assert await session.get_items() == ITEMS
    assert await session.get_items(limit=2) == ITEMS[-2:]
    assert await session.get_items(limit=0) == []
    await session.close()

    conversation, messages = messages_of(db_path, "chat-1")
    assert conversation.title == USER["content"]
    assert [(m.role, m.content) for m in messages] == [
        ("system", "Be brief."),
        ("user", "What is the weather in Paris?"),
        ("assistant", 'called get_weather({"city": "Paris"})'),
        ("tool", "18°C, sunny"),
        ("assistant", "(reasoning) The tool answered."),
        ("assistant", "It is 18°C and sunny."),
        ("user", "and in Rome?"),
    ]
    assert [m.extra["sdk_item"] for m in messages] == ITEMS
    # A new session object on the same store (a new run) reads the same items.
    again = AgentTermSession("chat-1", db=db_path)
    assert await again.get_items() == ITEMS
    await again.close()


async def test_the_default_store_is_agentterm_db(tmp_path, monkeypatch):
    monkeypatch.setenv("AGENTTERM_DB", str(tmp_path / "env.db"))
    session = AgentTermSession("chat-env")
    await session.add_items([USER])
    await session.close()
    assert messages_of(tmp_path / "env.db", "chat-env")[1][0].content == USER["content"]


async def test_pop_and_clear(db_path):
    session = AgentTermSession("chat-2", db=db_path)
    assert await session.pop_item() is None
    await session.add_items(copy.deepcopy(ITEMS))
    assert await session.pop_item() == USER_PARTS
    assert await session.pop_item() == ANSWER
    assert await session.get_items() == ITEMS[:-2]
    await session.clear_session()
    assert await session.get_items() == []
    assert await session.pop_item() is None
    await session.add_items([USER])
    assert await session.get_items() == [USER]
    await session.close()
    assert len(messages_of(db_path, "chat-2")[1]) == 1


async def test_two_sessions_are_kept_apart(db_path):
    one, two = AgentTermSession("a", db=db_path), AgentTermSession("b", db=db_path)
    await one.add_items([USER, ANSWER])
    await two.add_items([SYSTEM])
    assert await one.get_items() == [USER, ANSWER]
    assert await two.get_items() == [SYSTEM]
    await two.clear_session()
    assert await one.get_items() == [USER, ANSWER]
    assert await two.pop_item() is None
    await one.close()
    await two.close()


async def test_a_named_agent_links_the_conversation_and_an_unknown_one_is_refused(db_path):
    with Store(db_path) as store:
        agent = store.create_agent("Weather")
    session = AgentTermSession("chat-3", db=db_path, agent="Weather")
    await session.add_items([USER])
    await session.close()
    assert messages_of(db_path, "chat-3")[0].agent_id == agent.id

    stranger = AgentTermSession("chat-4", db=db_path, agent="Nobody")
    with pytest.raises(ValueError, match="no agent named 'Nobody'"):
        await stranger.add_items([USER])
    assert await stranger.get_items() == []
    await stranger.close()


async def test_the_runner_remembers_across_runs_through_the_store(db_path, server):
    from agents import Agent, OpenAIChatCompletionsModel, Runner, set_tracing_disabled
    from openai import AsyncOpenAI

    set_tracing_disabled(True)
    server.script(Complete("Paris is sunny."), Complete("Rome is rainy."))
    model = OpenAIChatCompletionsModel(
        model="test-model", openai_client=AsyncOpenAI(base_url=server.base_url, api_key="test")
    )
    agent = Agent(name="Weather", instructions="Answer briefly.", model=model)

    first = await Runner.run(agent, "Weather in Paris?", session=AgentTermSession("chat-42", db=db_path))
    assert first.final_output == "Paris is sunny."
    # A second run, with a new session object: the history comes from the store.
    session = AgentTermSession("chat-42", db=db_path)
    second = await Runner.run(agent, "And Rome?", session=session)
    assert second.final_output == "Rome is rainy."
    await session.close()

    sent = [(m["role"], m["content"]) for m in server.requests[1]["messages"]]
    assert sent == [
        ("system", "Answer briefly."),
        ("user", "Weather in Paris?"),
        ("assistant", "Paris is sunny."),
        ("user", "And Rome?"),
    ]
    with Store(db_path) as store:
        [conversation] = store.list_conversations()
        assert conversation.title == "Weather in Paris?"
        rows = [(m.role, m.content) for m in store.all_messages(conversation.id)]
    assert rows == [
        ("user", "Weather in Paris?"),
        ("assistant", "Paris is sunny."),
        ("user", "And Rome?"),
        ("assistant", "Rome is rainy."),
    ]


def test_importing_the_session_leaves_the_sdk_unimported():
    code = "import sys, agentterm.sdk; print(sorted(m for m in sys.modules if m.split('.')[0] == 'agents'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
