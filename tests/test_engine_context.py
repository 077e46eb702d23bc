"""The context window: the meter's numbers, the fitting rule, dropping and summarising old turns."""

from __future__ import annotations

from contextlib import aclosing

import pytest

from agentterm.config import ConfigError, load_settings
from agentterm.engine import AnswerFinished, ContextCut, PromptStored, run_turn
from agentterm.engine.context import Meter, estimate_tokens, measure, plan_fit, window_for
from agentterm.llm import LLMClient
from agentterm.store.context import TurnSize
from tests.openai_server import Stream

WINDOW = 1000


@pytest.fixture
def windowed(config_path):
    """The loopback provider with a window of WINDOW tokens (the answer's room: a quarter)."""
    with config_path.open("a", encoding="utf-8") as out:
        out.write(f"context_window = {WINDOW}\n")
    settings = load_settings(config_path)
    return settings, LLMClient(settings)


def long_conversation(store, turns: int = 6, chars: int = 800):
    """Turns of about chars/4 * 2 tokens each: six of them do not fit a 1,000-token window."""
    conversation = store.create_conversation(agent_id=store.default_agent().id, title="Long")
    for n in range(turns):
        store.add_message(conversation.id, "user", f"question {n} " + "q" * chars)
        store.add_message(conversation.id, "assistant", f"answer {n} " + "a" * chars, model="test-model")
    return conversation


async def events_of(store, client, cid, prompt, **options):
    async with aclosing(run_turn(store, client, cid, prompt, **options)) as turn:
        return [event async for event in turn]


def test_the_meter_is_one_statement_that_reads_no_body(store):
    conversation = long_conversation(store, turns=30)
    seen: list[str] = []
    store._conn.set_trace_callback(seen.append)
    try:
        size = store.context_size(conversation.id)
    finally:
        store._conn.set_trace_callback(None)
    assert len(seen) == 1, seen
    sql = " ".join(seen[0].split())
    # The only mention of a body is inside length(): the text never leaves SQLite.
    assert sql.count("content") == sql.count("length(m.content)") == 1, sql
    assert "thinking" not in sql and "SELECT m.*" not in sql and "SELECT *" not in sql
    assert size.messages == 60 and size.reported is None
    assert size.chars == sum(len(m.content) for m in store.all_messages(conversation.id))


def test_a_usage_report_counts_up_to_its_answer_and_the_rest_is_estimated(store):
    conversation = long_conversation(store, turns=1, chars=10)
    store.add_message(conversation.id, "user", "x" * 40)
    store.add_message(conversation.id, "assistant", "y" * 40, prompt_tokens=500, completion_tokens=20)
    store.add_message(conversation.id, "user", "z" * 400)
    size = store.context_size(conversation.id)
    assert size.reported == 520 and size.chars == 400
    meter = measure(size, instructions="be brief", window=1000)
    assert meter.estimated and meter.used == 520 + estimate_tokens(400) + 4
    assert Meter(800, 1000, False).level == "near" and Meter(799, 1000, False).level == "ok"
    assert Meter(1001, 1000, False).level == "over"
    # Once the oldest turns are cut, the report (which counted them) no longer measures anything.
    store.cut_context(conversation.id, size.reported_at + 1)
    assert store.context_size(conversation.id).reported is None


def test_the_window_comes_from_the_model_then_the_provider_then_the_known_table(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[providers.a]\nmodel = "m"\ncontext_window = 4096\n'
                    '[providers.a.models."big"]\ncontext_window = 100000\ninput_price = 1\n'
                    '[providers.b]\nmodel = "gpt-4o-mini"\n', encoding="utf-8")
    settings = load_settings(path)
    assert window_for(settings, "a", "big") == 100000
    assert window_for(settings, "a", "m") == 4096
    assert window_for(settings, "b", "gpt-4o-mini") == 128_000
    assert window_for(settings, "b", "openai/gpt-4o") == 128_000
    assert window_for(settings, "b", "something-else") is None


@pytest.mark.parametrize("line, words", [
    ("context_window = 10", "256 or more"),
    ('context_window = "big"', "whole number of tokens"),
    ("input_price = -1", "price per million tokens"),
    ('[providers.a.models."m"]\nwindow = 5', 'unknown key (did you mean "context_window"?)'),
])
def test_bad_window_and_price_keys_are_one_line_naming_the_key(tmp_path, line, words):
    path = tmp_path / "config.toml"
    path.write_text(f'[providers.a]\nmodel = "m"\n{line}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert words in str(raised.value) and "line " in str(raised.value)


def test_the_rule_drops_the_fewest_oldest_turns_and_keeps_the_newest():
    meter = Meter(used=900, window=1000, estimated=True)
    turns = [TurnSize(1, 400), TurnSize(3, 400), TurnSize(5, 400), TurnSize(7, 400)]
    fit = plan_fit(meter, turns, "hello", reserve=100)
    assert not fit.fits and fit.drop == 1 and fit.keep_from == 3
    assert plan_fit(Meter(100, 1000, True), turns, "hi", reserve=100).fits
    hopeless = plan_fit(Meter(5000, 1000, True), turns[:1], "x" * 8000, reserve=100)
    assert not hopeless.possible


async def test_a_request_that_does_not_fit_is_refused_before_anything_is_stored(store, windowed, server):
    _settings, client = windowed
    conversation = long_conversation(store)
    before = store.count_messages(conversation.id)
    events = await events_of(store, client, conversation.id, "one more")
    failed = events[-1]
    assert failed.error.code == "context_full" and "window of 1,000" in failed.error.message
    assert "Drop the" in failed.error.message and failed.error.fit.drop >= 1
    assert store.count_messages(conversation.id) == before and not server.requests


async def test_drop_leaves_the_oldest_turns_out_of_the_request_and_deletes_nothing(store, windowed, server):
    _settings, client = windowed
    server.script(Stream("Fine."))
    conversation = long_conversation(store)
    events = await events_of(store, client, conversation.id, "one more", overflow="drop")
    cut = next(e for e in events if isinstance(e, ContextCut))
    assert cut.dropped >= 1 and cut.summary is None
    assert isinstance(events[events.index(cut) + 1], PromptStored)
    assert isinstance(events[-1], AnswerFinished)
    sent = " ".join(str(m["content"]) for m in server.requests[-1]["messages"])
    assert "question 0" not in sent and "question 5" in sent and "one more" in sent
    assert store.count_messages(conversation.id) == 12 + 2  # every old turn is still there
    start = store.get_conversation(conversation.id).context_from
    assert start == next(m.id for m in store.all_messages(conversation.id) if m.content.startswith(
        f"question {cut.dropped} "))


async def test_compact_stores_a_summary_and_sends_it_in_place_of_the_old_turns(store, windowed, server):
    _settings, client = windowed
    server.script(Stream("They asked six questions about q and got answers about a."), Stream("Done."))
    conversation = long_conversation(store)
    events = await events_of(store, client, conversation.id, "one more", overflow="compact")
    cut = next(e for e in events if isinstance(e, ContextCut))
    summary = cut.summary
    assert summary.role == "system" and summary.extra["summary"]["turns"] == cut.dropped
    assert store.get_message(summary.id).content.startswith("They asked six questions")
    summarising, answering = server.requests[-2], server.requests[-1]
    assert "question 0" in summarising["messages"][-1]["content"]
    head = answering["messages"][0]
    assert head["role"] == "system" and "They asked six questions" in head["content"]
    sent = " ".join(str(m["content"]) for m in answering["messages"][1:])
    assert "question 0" not in sent and "They asked" not in sent and "one more" in sent
    assert isinstance(events[-1], AnswerFinished)


async def test_a_summary_that_fails_cuts_nothing(store, windowed, server):
    from tests.openai_server import Error

    _settings, client = windowed
    server.script(Error(500, "no summary today"))
    conversation = long_conversation(store)
    events = await events_of(store, client, conversation.id, "one more", overflow="compact")
    assert events[-1].error.code == "compact_failed"
    assert store.get_conversation(conversation.id).context_from is None
    assert store.count_messages(conversation.id) == 12

