"""`chats export --format html`: one self-contained page, code highlighted, folds, and nothing from the model runs."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from agentterm.store import Store
from tests.cli_helpers import cli  # noqa: F401 - the fixture

HOSTILE = """Look: <script>alert('s')</script> <img src=x onerror="alert('i')">
[click](javascript:alert('j')) [also](JaVaScRiPt:alert(1)) [data](data:text/html,<script>alert(1)</script>)
<javascript:alert('auto')> ![pixel](https://tracker.example/p.png) <iframe src="https://evil.example"></iframe>
<a href="https://evil.example" onclick="alert(1)">raw</a> [fine](https://docs.python.org/3/)

```python" onmouseover="alert('fence')
print("<script>alert('code')</script>")
```

```python
def greet(name):
    return f"hello {name}"
```
"""


class Elements(HTMLParser):
    """Every element and attribute, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.fixture
def page(cli, db_path, tmp_path) -> str:
    with Store(db_path) as store:
        conversation = store.create_conversation(None, "<script>alert('title')</script>")
        store.add_message(conversation.id, "user", "<b onmouseover=alert(1)>hi</b>")
        store.add_message(conversation.id, "assistant", HOSTILE, model="<img src=x onerror=alert(1)>")
        store.add_message(conversation.id, "tool", "</pre></details><script>alert('tool')</script>",
                          tool_name="web.fetch", tool_call_id="call_1")
    target = tmp_path / "share.html"
    cli("chats", "export", str(conversation.id), "--format", "html", "-o", str(target))
    return target.read_text(encoding="utf-8")


def test_nothing_from_the_model_becomes_markup_that_runs(page):
    parsed = Elements()
    parsed.feed(page)
    tags = [tag for tag, _ in parsed.tags]
    assert "script" not in tags and "iframe" not in tags
    for tag, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("href", "src"):
            value = (attrs.get(name) or "").replace(" ", "").lower()
            assert not value.startswith(("javascript:", "data:text", "vbscript:")), (tag, attrs)
        if tag == "img":
            assert (attrs.get("src") or "").startswith("data:image/"), "a remote image would load"
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#x27;title&#x27;)" in page


def test_the_page_is_self_contained_and_forbids_scripts(page):
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    parsed = Elements()
    parsed.feed(page)
    assert not [t for t, a in parsed.tags if t == "link" or (t in ("img", "script") and "src" in a
                                                           and not a["src"].startswith("data:"))]
    assert '<a href="https://docs.python.org/3/">fine</a>' in page


def test_code_is_highlighted_and_tool_blocks_fold(page):
    assert re.search(r'<code class="language-python"><span class="k">def</span>', page)
    assert "pre code .k" in page  # the highlighting's colours ship inside the page
    assert "<details><summary>Result of web.fetch</summary>" in page


def test_thinking_is_left_out_unless_asked():
    from agentterm.export import render

    export = {"conversation": {"title": "t"},
              "messages": [{"role": "assistant", "content": "answer", "thinking": "secret <b>musings</b>"}]}
    for fmt in ("md", "json", "html"):
        assert "musings" not in render(export, fmt)
    shown = render(export, "html", with_thinking=True)
    assert "<details><summary>Thinking</summary>" in shown and "&lt;b&gt;musings&lt;/b&gt;" in shown
    assert "secret <b>musings</b>" in render(export, "md", with_thinking=True)


def test_a_stored_turn_exports_its_thinking_only_when_asked_and_its_tool_calls_folded(cli, db_path, tmp_path):
    import json

    with Store(db_path) as store:
        conversation = store.create_conversation(None, "Tools")
        store.add_message(conversation.id, "user", "what is in /tmp?")
        answer = store.add_message(conversation.id, "assistant", "Let me look.")
        store.update_message(answer.id, thinking="PRIVATE-MUSING <script>alert(1)</script>")
        call = store.add_tool_call(answer.id, "call_1", 0, "fs_list", "fs", "list", '{"path": "/tmp"}', "running")
        store.update_tool_call(call.id, status="done", result="notes.txt <img src=x onerror=alert(1)>")
    cid = str(conversation.id)

    for fmt in ("md", "json", "html"):
        assert "PRIVATE-MUSING" not in cli("chats", "export", cid, "-f", fmt).stdout
        assert "PRIVATE-MUSING" in cli("chats", "export", cid, "-f", fmt, "--with-thinking").stdout

    exported = json.loads(cli("chats", "export", cid, "-f", "json").stdout)
    assert exported["messages"][1]["tool_calls"][0]["result"].startswith("notes.txt")
    page = cli("chats", "export", cid, "-f", "html", "--with-thinking").stdout
    assert "<details><summary>Tool call: fs_list (done)</summary>" in page
    assert "<details><summary>Thinking</summary>" in page
    assert "<script>alert" not in page and "<img src=x" not in page
