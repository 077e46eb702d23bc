"""The real `agentterm serve` process under load and under signals (issue 10): 50 concurrent
streamed sessions all complete; SIGTERM or SIGINT mid-stream is a clean exit with every answer in
flight stored interrupted, its partial text kept."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import threading
import time

import pytest

from tests.openai_server import Stream
from tests.serve_process import ServeProcess

AGENT = "Assistant"
CLIENTS = 50


def _rows(db_path, sql: str, params=()) -> list[tuple]:
    with sqlite3.connect(db_path, timeout=30) as db:
        return db.execute(sql, params).fetchall()


@pytest.fixture
def serve(tmp_path, db_path, config_path, store):
    store.set_agent_owner(store.default_agent().id, None, shared=True)
    with config_path.open("a") as config:  # one token drives all 50: lift its stream allowance
        config.write("\n[serve]\nstreams_per_token = 0\nrequests_per_minute = 0\n")
    with ServeProcess(tmp_path, db_path, config_path) as proc:
        yield proc


def test_fifty_concurrent_streamed_sessions_all_complete(serve, store, server, db_path):
    from openai import AsyncOpenAI

    token, _ = store.create_token("alice")
    answer = "The quick brown fox jumps over the lazy dog, again and again."
    server.default = Stream(answer, chunk_size=4, delay=0.01)

    async def session(api, n: int) -> tuple[str, str]:
        texts = []
        for turn in ("first", "second"):
            stream = await api.chat.completions.create(
                model=AGENT, stream=True, messages=[{"role": "user", "content": f"{turn} {n}"}],
                extra_body={"session_id": f"load-{n}"})
            texts.append("".join([c.choices[0].delta.content or "" async for c in stream if c.choices]))
        return tuple(texts)

    async def main():
        api = AsyncOpenAI(base_url=serve.base_url, api_key=token, max_retries=0, timeout=300)
        try:
            return await asyncio.gather(*(session(api, n) for n in range(CLIENTS)))
        finally:
            await api.close()

    results = asyncio.run(main())
    assert results == [(answer, answer)] * CLIENTS
    for n in range(CLIENTS):
        cid = store.owned_conversation("alice", f"load-{n}").id
        assert [(m.role, m.content, m.status) for m in store.all_messages(cid)] == [
            ("user", f"first {n}", "complete"), ("assistant", answer, "complete"),
            ("user", f"second {n}", "complete"), ("assistant", answer, "complete")]
    assert _rows(db_path, "SELECT count(*) FROM messages WHERE status = 'streaming'") == [(0,)]
    assert serve.stop() == 0
    assert "Traceback" not in serve.stderr()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_stream_stops_cleanly_and_keeps_the_answers_interrupted(serve, store, server, db_path, sig):
    import httpx2 as httpx

    token, _ = store.create_token("alice")
    long = "word " * 2000  # 100 s at this pace: only a stop ends it within the test
    server.default = Stream(long, chunk_size=5, delay=0.05)
    streams, clients = [], []
    try:
        for n in range(3):
            client = httpx.Client(timeout=120)
            clients.append(client)
            response = client.send(client.build_request(
                "POST", f"{serve.base_url}/chat/completions", headers={"Authorization": f"Bearer {token}"},
                json={"model": AGENT, "stream": True, "session_id": f"sig-{n}",
                      "messages": [{"role": "user", "content": "go"}]}), stream=True)
            streams.append(response)
            lines = response.iter_lines()
            while "word" not in next(lines):  # this answer is under way
                pass
            streams[-1] = (response, lines)

        # And a plain (non-streamed) answer in flight, waited for in a thread.
        plain: dict = {}

        def ask_plain() -> None:
            with httpx.Client(timeout=120) as client:
                plain["answer"] = client.post(
                    f"{serve.base_url}/chat/completions", headers={"Authorization": f"Bearer {token}"},
                    json={"model": AGENT, "session_id": "sig-plain", "messages": [{"role": "user", "content": "go"}]})

        asker = threading.Thread(target=ask_plain, daemon=True)
        asker.start()

        def flushed() -> bool:  # every answer has text in the store (the engine flushes as it goes)
            rows = _rows(db_path, "SELECT count(*) FROM messages WHERE role = 'assistant'"
                         " AND status = 'streaming' AND length(content) > 0")
            return rows == [(4,)]

        deadline = time.monotonic() + 60
        while not flushed():
            assert time.monotonic() < deadline, "the answers never reached the store"
            time.sleep(0.05)
        assert serve.stop(sig, timeout=60) == 0
        # Each client saw its stream end with the server's error event, not a hang or a reset.
        for response, lines in streams:
            rest = list(lines)
            assert any("server_stopping" in line for line in rest), rest[-3:]
        asker.join(60)
        assert plain["answer"].status_code == 503
        assert plain["answer"].json()["error"]["code"] == "server_stopping"
    finally:
        for client in clients:
            client.close()
    stderr = serve.stderr()
    assert "Traceback" not in stderr and "stopped" in stderr
    for key in ("sig-0", "sig-1", "sig-2", "sig-plain"):
        cid = store.owned_conversation("alice", key).id
        answer = store.all_messages(cid)[-1]
        assert answer.role == "assistant" and answer.status == "interrupted"
        assert 0 < len(answer.content) < len(long) and long.startswith(answer.content)
    assert _rows(db_path, "SELECT count(*) FROM messages WHERE status = 'streaming'") == [(0,)]
