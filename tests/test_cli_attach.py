"""`agentterm ask -f FILE`: files attached on the command line, as sent to the loopback server (issue 12.7)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from agentterm.store import Store
from tests.conftest import TEST_KEY
from tests.openai_server import Stream

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 40


@pytest.fixture
def ask(tmp_path, db_path, config_path):
    work = tmp_path / "work"
    work.mkdir()

    def ask(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path)}
        result = subprocess.run([sys.executable, "-m", "agentterm", "ask", "--no-title", *args],
                                capture_output=True, text=True, env=env, timeout=60, cwd=work)
        if check:
            assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr and TEST_KEY not in result.stderr
        return result

    ask.work = work
    return ask


def one_line(result) -> str:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_ask_f_sends_each_file_in_the_prompt_and_stores_what_was_sent(ask, server, db_path):
    server.script(Stream("Reviewed."))
    (ask.work / "a.py").write_text("print('a')\n")
    (ask.work / "b.md").write_text("# B\n")
    ask("-f", "a.py", "--file", "b.md", "review these")
    sent = server.requests[-1]["messages"][-1]
    assert sent["role"] == "user"
    assert sent["content"] == ("review these\n\nAttached file `a.py` (11 B):\n\n```\nprint('a')\n```"
                               "\n\nAttached file `b.md` (4 B):\n\n```\n# B\n```")
    with Store(db_path) as store:
        [conversation] = store.list_conversations()
        prompt = store.all_messages(conversation.id)[0]
        assert prompt.content == sent["content"]  # exports and search read what the model read
        assert prompt.extra["prompt"] == "review these"
        assert [a["path"] for a in prompt.extra["attachments"]] == ["a.py", "b.md"]


def test_ask_f_alone_sends_the_file(ask, server):
    server.script(Stream("ok"))
    (ask.work / "q.txt").write_text("What is 2+2?")
    ask("-f", "q.txt")
    assert server.requests[-1]["messages"][-1]["content"].startswith("Attached file `q.txt`")


def test_ask_f_refuses_a_bad_file_in_one_line_and_sends_nothing(ask, server, db_path, tmp_path):
    (ask.work / "blob.bin").write_bytes(b"\0\1\2")
    (ask.work / "big.txt").write_text("x" * (256 * 1024 + 1))
    os.mkfifo(ask.work / "pipe")
    for name, words in [("missing.txt", "There is no file missing.txt"), ("blob.bin", "binary"),
                        ("big.txt", "max_attachment_bytes"), ("pipe", "not a regular file"),
                        (".", "is a directory"), ("../x", "'..'")]:
        result = ask("-f", name, "hi", check=False)
        assert result.returncode == 2
        assert words in one_line(result)
    assert server.requests == []
    with Store(db_path) as store:
        assert store.list_conversations() == []


def test_ask_f_image_goes_as_a_content_part_to_a_vision_model(ask, server, db_path):
    server.script(Stream("A picture."))
    (ask.work / "pic.png").write_bytes(PNG)
    ask("-m", "gpt-4o", "-f", "pic.png", "what is this")
    content = server.requests[-1]["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": "what is this\n\nAttached image `pic.png` (image/png, 48 B)."}
    assert content[1]["type"] == "image_url"
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,iVBORw0KGgo")


def test_ask_f_image_to_a_model_without_vision_is_one_line(ask, server, db_path):
    (ask.work / "pic.png").write_bytes(PNG)
    result = ask("-f", "pic.png", "what is this", check=False)  # test-model: not known to take images
    assert "does not take images" in one_line(result)
    assert server.requests == []
    with Store(db_path) as store:
        assert store.list_conversations() == []
