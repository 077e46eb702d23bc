"""run_turn against a real store and the loopback OpenAI server: text answers, stops, faults, retries."""

from __future__ import annotations

import asyncio

from agentterm.engine import (
    AnswerFailed,
    AnswerFinished,
    AnswerStarted,
    PromptStored,
    TextDelta,
    TurnRefused,
    auto_title,
    run_turn,
)
from agentterm.store import Store
from tests.engine_helpers import ScriptedModel, collect, last, text
from tests.openai_server import Error, Stream


async def test_send_stores_prompt_and_complete_answer(store, client, server):
    server.script(Stream(text="Hello there, friend.", usage=(11, 5)))
    conversation = store.create_conversation()

    events = await collect(store, client, conversation.id, "hi")

    answer = last(events).message
    assert isinstance(last(events), AnswerFinished)
    assert answer.status == "complete" and answer.content == "Hello there, friend."
    assert (answer.prompt_tokens, answer.completion_tokens) == (11, 5)
    kinds = [type(e) for e in events]
    assert kinds[0] is PromptStored and kinds[1] is AnswerStarted
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello there, friend."
    messages = store.all_messages(conversation.id)
    assert [(m.role, m.content) for m in messages] == [("user", "hi"), ("assistant", "Hello there, friend.")]
    assert store.get_conversation(conversation.id).tokens == 16


async def test_agent_instructions_model_and_params_are_sent(store, client, server):
    agent = store.create_agent("Pirate", instructions="Talk like a pirate.", model="pirate-1",
                               temperature=0.3, max_tokens=99, extra={"seed": 7})
    conversation = store.create_conversation(agent_id=agent.id)

    events = await collect(store, client, conversation.id, "ahoy")

    body = server.requests[-1]
    assert body["model"] == "pirate-1"
    assert body["messages"][0] == {"role": "system", "content": "Talk like a pirate."}
    assert body["messages"][-1] == {"role": "user", "content": "ahoy"}
    assert (body["temperature"], body["max_tokens"], body["seed"]) == (0.3, 99, 7)
    assert last(events).message.agent_version == agent.version


async def test_a_server_error_keeps_the_prompt_and_records_the_error(store, client, server):
    server.script(Error(500, "the model fell over"))
    conversation = store.create_conversation()

    events = await collect(store, client, conversation.id, "are you there?")

    failed = last(events)
    assert isinstance(failed, AnswerFailed) and type(failed.error).__name__ == "ServerError"
    messages = store.all_messages(conversation.id)
    assert messages[0].content == "are you there?"
    assert messages[1].status == "error" and messages[1].extra["error"]


async def test_a_dropped_stream_keeps_the_partial_answer(store, client, server):
    server.script(Stream(text="one two three four five six", chunk_size=4, drop_after=3))
    conversation = store.create_conversation()

    events = await collect(store, client, conversation.id, "count")

    assert isinstance(last(events), AnswerFailed)
    answer = store.all_messages(conversation.id)[-1]
    assert answer.role == "assistant" and answer.status == "error"
    assert answer.content and "one two three "[: len(answer.content)] == answer.content
    assert answer.content == "".join(e.text for e in events if isinstance(e, TextDelta))


async def _consume(turn, seen, started, after=5):
    async for event in turn:
        if isinstance(event, TextDelta):
            seen.append(event.text)
            if len(seen) == after:
                started.set()


async def test_cancel_keeps_the_partial_answer_as_interrupted(store, client, server):
    server.script(Stream(text="word " * 400, chunk_size=5, delay=0.01))
    conversation = store.create_conversation()
    seen: list[str] = []
    started = asyncio.Event()

    task = asyncio.create_task(_consume(run_turn(store, client, conversation.id, "talk"), seen, started))
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("the stop was swallowed")

    answer = store.all_messages(conversation.id)[-1]
    assert answer.status == "interrupted"
    assert answer.content == "".join(seen)
    assert 0 < len(answer.content) < len("word " * 400)


async def test_the_answer_is_on_disk_while_it_streams(store, client, server, db_path):
    server.script(Stream(text="x" * 200, chunk_size=2, delay=0.02))
    conversation = store.create_conversation()
    seen: list[str] = []
    task = asyncio.create_task(_consume(run_turn(store, client, conversation.id, "go", flush_interval=0.2),
                                        seen, asyncio.Event()))
    await asyncio.sleep(1.0)
    other = Store(db_path)
    try:
        answer = other.latest_messages(conversation.id, 1)[0]
        # What the other process sees lags by at most one flush interval (10 chunks here).
        assert answer.status == "streaming"
        assert len(answer.content) >= 20
    finally:
        other.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_continue_extends_an_interrupted_answer_in_place(store, client, server):
    conversation = store.create_conversation()
    store.add_message(conversation.id, "user", "write a poem")
    cut = store.add_message(conversation.id, "assistant", "Roses are red,", status="interrupted")
    server.script(Stream(text=" violets are blue."))

    events = await collect(store, client, conversation.id, None, mode="continue")

    answer = last(events).message
    assert answer.id == cut.id
    assert answer.content == "Roses are red, violets are blue."
    assert answer.status == "complete"
    sent = server.requests[-1]["messages"]
    assert sent[-2] == {"role": "assistant", "content": "Roses are red,"}


async def test_paused_and_inactive_agents_refuse_to_send_and_store_nothing(store, client, server):
    for status, word in (("paused", "paused"), ("inactive", "inactive")):
        agent = store.create_agent(f"Sleepy {status}")
        store.set_agent_status(agent.id, status)
        conversation = store.create_conversation(agent_id=agent.id, title="Kept")

        events = await collect(store, client, conversation.id, "wake up")

        failed = last(events)
        assert isinstance(failed, AnswerFailed) and isinstance(failed.error, TurnRefused)
        assert word in failed.error.message and f"Sleepy {status}" in failed.error.message
        assert failed.error.hint
        assert store.count_messages(conversation.id) == 0
    assert server.requests == []


async def test_a_trashed_conversation_refuses_to_send(store, client, server):
    conversation = store.create_conversation()
    store.add_message(conversation.id, "user", "hello")
    store.trash(conversation.id)

    events = await collect(store, client, conversation.id, "still there?")

    assert isinstance(last(events).error, TurnRefused) and "trash" in last(events).error.message
    assert store.count_messages(conversation.id) == 1
    assert server.requests == []


async def test_a_refused_first_send_leaves_no_empty_conversation(store, client, server):
    agent = store.create_agent("Gone fishing")
    store.set_agent_status(agent.id, "paused")
    conversation = store.create_conversation(agent_id=agent.id)

    events = await collect(store, client, conversation.id, "hello")

    assert isinstance(last(events), AnswerFailed)
    assert store.get_conversation(conversation.id) is None


async def test_auto_title_names_the_conversation_but_never_overrides_the_user(store, client, server):
    server.script(Stream(text="Monads are burritos."), Stream(text='"Monads Explained Simply"'))
    conversation = store.create_conversation()
    await collect(store, client, conversation.id, "what is a monad")

    title = await auto_title(store, client, conversation.id)

    assert title == "Monads Explained Simply"
    assert store.get_conversation(conversation.id).title == "Monads Explained Simply"
    store.rename_conversation(conversation.id, "Mine")
    assert await auto_title(store, client, conversation.id) is None
    assert store.get_conversation(conversation.id).title == "Mine"


async def test_auto_title_falls_back_to_the_first_line_when_the_server_fails(store, client, server):
    server.script(Stream(text="An answer."), Error(500, "no titles today"))
    conversation = store.create_conversation()
    await collect(store, client, conversation.id, "How do I bake bread\nwith details")

    assert await auto_title(store, client, conversation.id) == "How do I bake bread"


async def test_a_burst_of_chunks_lets_other_tasks_run(store):
    # Chunks already received are read without waiting on the network (an app that fell behind
    # catches up): the loop still yields now and then, so frames are drawn and keys handled.
    model = ScriptedModel(text(*["word "] * 1000))
    conversation = store.create_conversation()
    turns = 0
    done = False

    async def other() -> None:
        nonlocal turns
        while not done:
            turns += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(other())
    await asyncio.sleep(0)
    seen: list[int] = []
    async for event in run_turn(store, model, conversation.id, "go"):
        if isinstance(event, TextDelta):
            seen.append(turns)
    done = True
    await task
    assert len(seen) == 1000
    assert seen[-1] - seen[0] >= 1000 // 64  # the other task ran while the deltas came


async def test_retry_is_a_new_variant_and_the_old_answer_stays_shown_until_the_new_one_starts(store):
    conversation = store.create_conversation()
    await collect(store, ScriptedModel(text("Old answer.")), conversation.id, "question")
    gate = asyncio.Event()
    waiting = asyncio.Event()

    class Gated(ScriptedModel):
        async def stream_chat(self, messages, **options):
            self.requests.append({"messages": messages})
            waiting.set()
            await gate.wait()
            for item in text("New answer."):
                yield item

    model = Gated()
    task = asyncio.create_task(collect(store, model, conversation.id, None, mode="retry"))
    await asyncio.wait_for(waiting.wait(), 5)
    assert [m.content for m in store.all_messages(conversation.id)] == ["question", "Old answer."]
    gate.set()
    events = await task

    assert last(events).message.content == "New answer."
    assert [m.content for m in store.all_messages(conversation.id)] == ["question", "New answer."]
    assert "Old answer." not in str(model.requests[0]["messages"])
    prompt = store.all_messages(conversation.id)[0]
    assert store.variants(prompt.id) == [1, 2]
    store.select_variant(prompt.id, 1)  # nothing was deleted: the old one can be shown again
    assert [m.content for m in store.all_messages(conversation.id)] == ["question", "Old answer."]


async def test_a_retry_that_fails_before_its_first_token_leaves_the_old_answer_shown(store, client, server):
    conversation = store.create_conversation()
    server.script(Stream(text="Kept partial", drop_after=2), Error(500, "down"))
    await collect(store, client, conversation.id, "question")
    before = [(m.content, m.status) for m in store.all_messages(conversation.id)]

    events = await collect(store, client, conversation.id, None, mode="retry")

    failed = last(events)
    assert isinstance(failed, AnswerFailed) and failed.message is None
    assert type(failed.error).__name__ == "ServerError"
    assert [(m.content, m.status) for m in store.all_messages(conversation.id)] == before


async def test_a_conversations_own_model_and_instructions_come_before_its_agents(store):
    agent = store.create_agent("Base", instructions="Agent's words.", model="agent-model")
    conversation = store.create_conversation(agent_id=agent.id)
    store.override_conversation(conversation.id, model="own-model", instructions_override="Own words.")
    model = ScriptedModel(text("Fine."))

    await collect(store, model, conversation.id, "hi")

    assert model.requests[0]["model"] == "own-model"
    assert model.requests[0]["messages"][0] == {"role": "system", "content": "Own words."}


async def test_an_answer_whose_writer_died_can_be_retried_and_a_live_one_cannot(store):
    from tests.store_helpers import stale

    conversation = store.create_conversation()
    store.add_message(conversation.id, "user", "question")
    cut = store.add_message(conversation.id, "assistant", "half", status="streaming")

    live = await collect(store, ScriptedModel(text("no")), conversation.id, None, mode="retry")
    assert last(live).error.code == "still_streaming"

    stale(store, cut.id)
    events = await collect(store, ScriptedModel(text("Whole answer.")), conversation.id, None, mode="retry")
    assert last(events).message.content == "Whole answer."
    assert store.get_message(cut.id).status == "interrupted"


async def test_a_new_send_cancels_a_title_still_being_made(store):
    from agentterm.engine import start_title

    conversation = store.create_conversation()
    asked = asyncio.Event()

    class SlowTitles(ScriptedModel):
        async def generate_title(self, prompt, answer, **options):
            asked.set()
            await asyncio.sleep(30)
            return "Too late"

    model = SlowTitles(text("First."), text("Second."))
    await collect(store, model, conversation.id, "one")
    title = start_title(store, model, conversation.id)
    await asyncio.wait_for(asked.wait(), 5)

    await collect(store, model, conversation.id, "two")

    await asyncio.gather(title, return_exceptions=True)
    assert title.cancelled()
    assert store.get_conversation(conversation.id).title == ""


async def test_a_send_while_another_agentterm_streams_here_is_refused_and_stores_nothing(store):
    # Two machines on one store: a prompt added under a live answer would interleave two answers.
    from tests.store_helpers import stale

    conversation = store.create_conversation()
    store.add_message(conversation.id, "user", "question")
    live = store.add_message(conversation.id, "assistant", "half", status="streaming")

    failed = last(await collect(store, ScriptedModel(text("no")), conversation.id, "another"))
    assert failed.error.code == "still_streaming"
    assert "another agentterm" in failed.error.message and "not sent" in failed.error.hint
    assert [m.content for m in store.all_messages(conversation.id)] == ["question", "half"]

    stale(store, live.id)  # its writer died: the conversation takes prompts again
    events = await collect(store, ScriptedModel(text("Now.")), conversation.id, "another")
    assert last(events).message.content == "Now."
