"""AsyncStore: the store's calls run on its own thread, so a locked store never stalls the loop."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading

import pytest

from agentterm.store import AsyncStore, Store, StoreError

# Another program holding the store: an exclusive transaction for a few seconds (under the
# store's 5 s busy timeout, so the waiting write then succeeds).
HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


async def test_a_store_locked_by_another_program_does_not_block_the_event_loop(db_path):
    async with await AsyncStore.open(db_path) as astore:
        conversation = await astore.create_conversation(title="Busy")
        holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db_path), "3"],
                                  stdout=subprocess.PIPE)
        try:
            assert holder.stdout.readline() == b"locked\n"
            ticks = 0
            write = asyncio.ensure_future(astore.add_message(conversation.id, "user", "hello"))

            while not write.done():  # the loop runs other work while the write waits for the lock
                ticks += 1
                await asyncio.sleep(0.01)
            message = write.result()
        finally:
            holder.wait()
        # A write that held the loop would have let no tick through before it returned.
        assert ticks >= 20, ticks
        assert message.content == "hello"
        assert [m.content for m in await astore.all_messages(conversation.id)] == ["hello"]


@pytest.mark.sqlite_only
async def test_every_call_runs_on_one_worker_thread_never_the_loops(db_path):
    store = Store(db_path)
    astore = AsyncStore(store)
    threads: set[int] = set()
    store._conn.set_trace_callback(lambda sql: threads.add(threading.get_ident()))
    conversation = await astore.create_conversation()
    await asyncio.gather(*(astore.add_message(conversation.id, "user", f"m{i}") for i in range(20)))
    assert [m.content for m in await astore.latest_messages(conversation.id, 50)] == [
        f"m{i}" for i in range(20)]  # in the order the calls were made
    await astore.rename_conversation(conversation.id, "Named")
    assert len(threads) == 1 and threading.get_ident() not in threads
    # The sync face still works beside it (the CLI, and code not moved over yet).
    assert store.get_conversation(conversation.id).title == "Named"
    assert astore.path == store.path
    await astore.close()


async def test_store_errors_come_out_of_the_await(store):
    astore = AsyncStore(store)
    with pytest.raises(StoreError, match="no conversation with id 999"):
        await astore.add_message(999, "user", "lost")
    with pytest.raises(AttributeError):
        astore.no_such_method  # noqa: B018


async def test_a_cancelled_await_still_makes_the_write_queued_behind_another(store_target):
    # A stop (or a client gone) cancels the turn while its final write waits behind a flush:
    # the write must still land, or the answer stays "streaming" with nobody writing it.
    import time

    async with await AsyncStore.open(store_target) as astore:
        conversation = await astore.create_conversation(title="Stopped")
        busy = asyncio.ensure_future(astore.run(time.sleep, 0.3))  # the worker is busy
        await asyncio.sleep(0.05)
        write = asyncio.ensure_future(astore.add_message(conversation.id, "assistant", "kept"))
        await asyncio.sleep(0.05)
        write.cancel()
        with pytest.raises(asyncio.CancelledError):
            await write
        await busy
        assert [m.content for m in await astore.all_messages(conversation.id)] == ["kept"]
