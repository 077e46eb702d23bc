"""The store's transactions: waiting writers, locks, threads and processes at once."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from sqlite_utils import Database

from agentterm.store import Store, StoreError

# --- transactions and concurrency ------------------------------------------------------------


@pytest.mark.sqlite_only
def test_a_write_waits_for_another_writer_instead_of_failing(store, db_path):
    conversation = store.create_conversation()
    blocker = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    threading.Timer(0.5, blocker.execute, ["COMMIT"]).start()
    started = time.monotonic()
    store.add_message(conversation.id, "user", "patient")
    assert time.monotonic() - started >= 0.4
    assert store.count_messages(conversation.id) == 1
    blocker.close()


def test_a_store_locked_too_long_says_so(db_path, monkeypatch):
    from agentterm.store.sqlite import database as connection

    monkeypatch.setattr(connection, "BUSY_TIMEOUT_SECONDS", 0.2)
    with Store(db_path) as store:
        conversation = store.create_conversation()
        blocker = sqlite3.connect(db_path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreError, match="busy"):
                store.add_message(conversation.id, "user", "impatient")
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert store.count_messages(conversation.id) == 0


def test_two_stores_on_one_file_writing_at_once_lose_nothing(store_target):
    first, second = Store(store_target), Store(store_target)
    conversation = first.create_conversation()
    errors = []

    def write(store: Store, name: str) -> None:
        try:
            for i in range(100):
                store.add_message(conversation.id, "user", f"{name} {i}")
                if i % 10 == 0:
                    store.create_agent(f"{name} {i}")
        except Exception as error:  # reported below, with the thread's name
            errors.append(error)

    threads = [
        threading.Thread(target=write, args=(s, n)) for s, n in ((first, "a"), (second, "b"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert first.count_messages(conversation.id) == second.count_messages(conversation.id) == 200
    assert len(first.all_messages(conversation.id)) == 200
    assert len(second.list_agents()) == 1 + 20
    first.close()
    second.close()


def test_one_store_shared_by_threads_keeps_reads_out_of_writes(store):
    conversation = store.create_conversation()
    errors = []

    def work(name: str) -> None:
        try:
            for i in range(100):
                store.add_message(conversation.id, "user", f"{name} {i}")
                store.list_conversations(limit=5)
                store.latest_messages(conversation.id, 3)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(name,)) for name in "abc"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.count_messages(conversation.id) == len(store.all_messages(conversation.id)) == 300


def write_from_another_process(path: str, cid: int, name: str) -> None:
    with Store(path) as store:
        for i in range(100):
            store.add_message(cid, "user", f"{name} {i}")
        for i in range(5):
            store.create_agent(f"{name} {i}")


def test_two_processes_writing_at_once_lose_nothing(store_target):
    with Store(store_target) as store:
        cid = store.create_conversation().id
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=write_from_another_process, args=(str(store_target), cid, name))
        for name in ("left", "right", "middle")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    with Store(store_target) as store:
        assert store.count_messages(cid) == len(store.all_messages(cid)) == 300
        assert len(store.list_agents()) == 1 + 15
        assert len(store.search("middle")) >= 1


def test_two_processes_opening_a_new_store_at_once_migrate_it_once(tmp_path):
    path = tmp_path / "new" / "agentterm.db"
    script = f"from agentterm.store import Store; Store({str(path)!r}).close()"
    processes = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(4)]
    assert [p.wait(timeout=60) for p in processes] == [0, 0, 0, 0]
    with Store(path) as store:
        assert [agent.name for agent in store.list_agents()] == ["Assistant"]


@pytest.mark.sqlite_only
def test_the_store_can_be_read_with_sqlite_utils(store, db_path):
    conversation = store.create_conversation(title="Readable")
    store.add_message(conversation.id, "user", "find me with sqlite-utils")
    db = Database(db_path)
    assert db["messages"].detect_fts() == "messages_fts"
    assert db["conversations"].detect_fts() == "conversations_fts"
    [row] = db["messages"].search("sqlite")
    assert row["content"] == "find me with sqlite-utils"
    assert os.access(db_path, os.R_OK)
