"""The loopback OpenAI server itself: its wire format, its scripting, its process mode, its bounds."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.openai_server import Complete, Error, FakeOpenAIServer, Stream, load_script, response_from_dict

ROOT = Path(__file__).resolve().parent.parent


def post(base_url: str, body: dict, timeout: float = 5) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(
        f"{base_url}/chat/completions", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer k"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def events(raw: bytes) -> list[str]:
    return [line[len("data: "):] for line in raw.decode().split("\n") if line.startswith("data: ")]


def test_a_stream_is_server_sent_events_with_role_content_finish_usage_and_done():
    with FakeOpenAIServer() as server:
        server.script(Stream("abcd", chunk_size=2, usage=(1, 2)))
        status, headers, raw = post(server.base_url, {"model": "m", "stream": True, "messages": [],
                                                      "stream_options": {"include_usage": True}})
    assert status == 200 and headers["Content-Type"] == "text/event-stream"
    data = events(raw)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert [c["choices"][0]["delta"].get("content") for c in chunks[1:3]] == ["ab", "cd"]
    assert chunks[3]["choices"][0]["finish_reason"] == "stop"
    assert chunks[4]["choices"] == [] and chunks[4]["usage"]["total_tokens"] == 3
    assert all(c["model"] == "m" for c in chunks)


def test_usage_is_sent_only_when_asked_for():
    with FakeOpenAIServer() as server:
        _, _, raw = post(server.base_url, {"model": "m", "stream": True, "messages": []})
    assert not any('"usage"' in d for d in events(raw))


def test_scripted_responses_are_used_in_order_then_the_default():
    with FakeOpenAIServer() as server:
        server.script(Complete("first"), Error(429, "later", headers={"Retry-After": "3"}))
        _, _, raw = post(server.base_url, {"model": "m", "messages": []})
        assert json.loads(raw)["choices"][0]["message"]["content"] == "first"
        status, headers, raw = post(server.base_url, {"model": "m", "messages": []})
        assert status == 429 and headers["Retry-After"] == "3"
        assert json.loads(raw)["error"]["message"] == "later"
        _, _, raw = post(server.base_url, {"model": "m", "messages": []})
        assert json.loads(raw)["choices"][0]["message"]["content"] == "Hello from the test server."
        assert len(server.requests) == 3 and server.pending == 0
        assert server.request_headers[0]["authorization"] == "Bearer k"


def test_models_list_and_its_absence():
    with FakeOpenAIServer() as server:
        with urllib.request.urlopen(f"{server.base_url}/models", timeout=5) as response:
            assert [m["id"] for m in json.loads(response.read())["data"]] == ["test-model", "test-title-model"]
        server.models = None
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{server.base_url}/models", timeout=5)
        assert caught.value.code == 404


def test_the_api_key_is_enforced_when_set():
    with FakeOpenAIServer(api_key="right") as server:
        status, _, _ = post(server.base_url, {"model": "m", "messages": []})
    assert status == 401


def test_closing_the_server_ends_a_stalled_stream_promptly():
    server = FakeOpenAIServer().start()
    server.script(Stream("abc", stall_after=1, stall_seconds=60))
    done = threading.Event()

    def client():
        try:
            post(server.base_url, {"model": "m", "stream": True, "messages": []}, timeout=30)
        except Exception:  # noqa: BLE001 - the server going away is the point
            pass
        done.set()

    threading.Thread(target=client, daemon=True).start()
    assert server.wait_for_requests(1)
    time.sleep(0.2)
    started = time.monotonic()
    server.close()
    assert time.monotonic() - started < 2
    assert done.wait(5)


def test_scripts_load_from_json(tmp_path):
    path = tmp_path / "script.json"
    path.write_text(json.dumps([
        {"kind": "stream", "text": "hi", "usage": [1, 2], "drop_after": 1},
        {"kind": "error", "status": 404, "message": "no", "code": "model_not_found"},
        {"kind": "raw", "body": "<html>"},
        {"kind": "hang", "seconds": 1},
        {"text": "kind defaults to stream"},
    ]))
    script = load_script(path)
    assert script[0] == Stream("hi", usage=(1, 2), drop_after=1)
    assert script[1].code == "model_not_found"
    assert type(script[4]) is Stream
    with pytest.raises(ValueError, match="unknown response kind"):
        response_from_dict({"kind": "nope"})
    with pytest.raises(ValueError, match="unknown field"):
        response_from_dict({"kind": "stream", "txt": "typo"})


def test_runs_as_a_process_with_a_port_file_and_a_script(tmp_path):
    port_file = tmp_path / "port"
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"kind": "complete", "text": "scripted"}]))
    log = tmp_path / "requests.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.openai_server", "--port", "0", "--port-file", str(port_file),
         "--script", str(script), "--delay", "0.01", "--request-log", str(log)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while not port_file.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert port_file.exists(), proc.stderr.read() if proc.poll() is not None else "no port file"
        base_url = f"http://127.0.0.1:{int(port_file.read_text())}/v1"
        _, _, raw = post(base_url, {"model": "m", "messages": []})
        assert json.loads(raw)["choices"][0]["message"]["content"] == "scripted"
        _, _, raw = post(base_url, {"model": "m", "stream": True, "messages": []})
        text = "".join(json.loads(d)["choices"][0]["delta"].get("content") or ""
                       for d in events(raw)[:-1] if json.loads(d)["choices"])
        assert text == "Hello from the test server."
        assert len(log.read_text().splitlines()) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_an_events_script_survives_its_json_form_bytes_and_all():
    from tests.openai_responses import DONE, Events, chunk, response_to_dict

    spec = Events([chunk({"content": "hi"}), b"data: {\"x\": \"\xff\"}\n\n", DONE], cut_at=40, end="drop")
    again = response_from_dict(json.loads(json.dumps(response_to_dict(spec))))
    assert again == spec and again.rendered() == spec.rendered()
    assert b"".join(spec.rendered()) == (b"data: " + json.dumps(chunk({"content": "hi"})).encode())[:40]


def test_an_events_stream_is_sent_byte_for_byte_then_cut(server):
    from tests.openai_responses import Events

    body = b"data: {\"a\": 1}\n\ndata: \xff\xfe half a li"
    server.script(Events([body]), Events([body], cut_at=10))
    for expected in (body, body[:10]):
        status, _, raw = post(server.base_url, {"model": "m", "stream": True, "messages": []})
        assert status == 200 and raw == expected
