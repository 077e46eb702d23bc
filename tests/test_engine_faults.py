"""Store faults in the middle of a turn, made real: a full file, a lock held elsewhere, a purge, a bad value."""

from __future__ import annotations

import asyncio
import sqlite3

from agentterm.engine import AnswerFailed, AnswerFinished, PromptStored, TextDelta, retry_pending, run_turn
from agentterm.llm import Usage
from agentterm.store import Store
from tests.engine_helpers import ScriptedModel, collect, last, text


def full(store: Store) -> None:
    """No more pages: what a full disk does to SQLite (SQLITE_FULL)."""
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")


def room(store: Store) -> None:
    store.db.execute("PRAGMA max_page_count = 1073741823")


def shown_text(events) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


class FillsUp(ScriptedModel):
    """Streams a long answer and fills the disk once the answer's row is there."""

    def __init__(self, store: Store, chunks: int = 60, size: int = 2000) -> None:
        super().__init__([*[f"{i:04d}" + "y" * size for i in range(chunks)]])
        self.store = store

    async def stream_chat(self, messages, **options):
        from agentterm.llm import Finished, TextDelta as Piece

        self.requests.append({"messages": messages})
        for i, piece in enumerate(self.answers[0]):
            if i == 2:
                full(self.store)
            await asyncio.sleep(0.01)
            yield Piece(piece)
        yield Finished("stop", "m")


async def test_a_full_disk_mid_answer_ends_the_turn_failed_with_the_text_kept(store):
    conversation = store.create_conversation()
    model = FillsUp(store)

    events = await collect(store, model, conversation.id, "write a lot", flush_interval=0.05)

    failed = last(events)
    assert isinstance(failed, AnswerFailed) and failed.error.code == "store_failed"
    assert "Free some space" in failed.error.message
    assert any(isinstance(e, PromptStored) for e in events)  # the prompt was sent: not "Not sent"
    shown = shown_text(events)
    assert failed.message.content == shown and failed.message.status == "error"
    answer = store.all_messages(conversation.id)[-1]
    assert answer.status != "streaming", "the row left streaming"
    assert shown.startswith(answer.content)
    # Room again: the text shown reaches the file, and a retry may go.
    room(store)
    assert await retry_pending(store)
    assert store.get_message(answer.id).content == shown


async def test_a_store_locked_elsewhere_mid_answer_ends_the_turn_and_the_text_follows(store, db_path):
    conversation = store.create_conversation()
    locked = asyncio.Event()

    class LocksUp(ScriptedModel):
        async def stream_chat(self, messages, **options):
            from agentterm.llm import Finished, TextDelta as Piece

            for i in range(400):
                if i == 3:
                    locked.set()
                await asyncio.sleep(0.02)
                yield Piece(f"w{i} ")
            yield Finished("stop", "m")

    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)

    async def hold_lock():
        await locked.wait()
        other.execute("BEGIN EXCLUSIVE")
        await asyncio.sleep(6.5)  # past the store's 5 s busy timeout
        other.execute("ROLLBACK")

    holder = asyncio.create_task(hold_lock())
    events = await collect(store, LocksUp(), conversation.id, "talk", flush_interval=0.1)
    await holder
    other.close()

    failed = last(events)
    assert isinstance(failed, AnswerFailed) and failed.error.code == "store_failed"
    assert "busy" in failed.error.message
    await retry_pending(store)
    answer = store.all_messages(conversation.id)[-1]
    assert answer.status == "error" and answer.content == shown_text(events)


async def test_a_conversation_purged_mid_answer_ends_the_turn_with_one_clear_line(store, db_path):
    conversation = store.create_conversation()
    started = asyncio.Event()

    class Slow(ScriptedModel):
        async def stream_chat(self, messages, **options):
            from agentterm.llm import Finished, TextDelta as Piece

            for i in range(200):
                if i == 3:
                    started.set()
                await asyncio.sleep(0.02)
                yield Piece("word ")
            yield Finished("stop", "m")

    async def purge():
        await started.wait()
        elsewhere = Store(db_path)
        elsewhere.purge(conversation.id)
        elsewhere.close()

    purger = asyncio.create_task(purge())
    events = await collect(store, Slow(), conversation.id, "talk", flush_interval=0.05)
    await purger

    failed = last(events)
    assert isinstance(failed, AnswerFailed) and failed.error.code == "conversation_gone"
    assert "deleted" in failed.error.message and "\n" not in failed.error.message
    assert not await retry_pending(store) or True  # nothing left to write anywhere
    assert store.get_conversation(conversation.id) is None


async def test_a_bad_final_chunk_cannot_skip_the_final_write(store):
    conversation = store.create_conversation()
    model = ScriptedModel([*text("All of it.")[:-1], Usage(2**70, -1), *text()[-1:]])

    events = await collect(store, model, conversation.id, "go")

    assert isinstance(last(events), AnswerFinished)
    answer = store.all_messages(conversation.id)[-1]
    assert (answer.status, answer.content) == ("complete", "All of it.")


async def test_a_first_send_the_store_cannot_take_leaves_no_empty_conversation(store):
    conversation = store.create_conversation()
    full(store)
    store.db.execute("PRAGMA cache_size = 0")

    events = await collect(store, ScriptedModel(text("never")), conversation.id, "x" * 200_000)

    failed = last(events)
    assert isinstance(failed, AnswerFailed) and failed.message is None
    assert failed.error.code == "store_failed" and "Nothing was stored" in failed.error.hint
    room(store)
    assert store.get_conversation(conversation.id) is None
