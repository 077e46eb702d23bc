"""Function names the model sees, and results as text: no server needed."""

from __future__ import annotations

import itertools
import json
import re
from types import SimpleNamespace as NS

from agentterm.tools import ToolSpec, function_name
from agentterm.tools.results import cut, outcome_of
from agentterm.tools.spec import split_function_name

OPENAI = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def test_plain_names_read_as_server__tool():
    assert function_name("time", "get_current_time") == "time__get_current_time"
    assert split_function_name("time__get_current_time") == ("time", "get_current_time")


def test_every_name_obeys_openai_and_maps_back_unambiguously():
    servers = ["a", "a_", "a__b", "docs", "x" * 32, "my-srv"]
    tools = ["b", "_b", "b__c", "c", "get.time", "名前", "t" * 128, "b c", "a", "get_time_7c33e941"]
    names = {}
    for server, tool in itertools.product(servers, tools):
        name = function_name(server, tool)
        assert OPENAI.match(name), name
        assert name not in names, (name, names.get(name), (server, tool))
        names[name] = (server, tool)
        split = split_function_name(name)
        assert split is None or split == (server, tool)
    # The pairs that would collide as plain `server__tool` text get hashed names.
    assert function_name("a", "b__c") != function_name("a__b", "c")
    assert function_name("a_", "b") != function_name("a", "_b")


def test_openai_tool_is_an_object_schema_even_when_the_server_sends_none():
    spec = ToolSpec(server="s", tool="t", name="s__t", description="does t", input_schema={})
    assert spec.openai_tool() == {"type": "function", "function": {
        "name": "s__t", "description": "does t", "parameters": {"type": "object", "properties": {}}}}


def result(content=(), structured=None, is_error=False):
    return NS(content=list(content), structured_content=structured, is_error=is_error)


def text(value):
    return NS(type="text", text=value)


def test_text_parts_are_joined_and_other_parts_named():
    outcome = outcome_of(result([text("one"), NS(type="image", data="AAAA", mime_type="image/png"), text("two"),
                                 NS(type="resource_link", uri="file:///x")]), "s.t", 1000)
    assert outcome.text == "one\n[image: image/png, about 3 bytes, not shown]\ntwo\n[resource: file:///x]"


def test_structured_content_alone_becomes_json_text():
    outcome = outcome_of(result(structured={"sum": 3, "ok": True}), "s.t", 1000)
    assert json.loads(outcome.text) == {"sum": 3, "ok": True} and not outcome.is_error


def test_an_error_result_names_the_tool():
    outcome = outcome_of(result([text("no such file")], is_error=True), "fs.read", 1000)
    assert (outcome.text, outcome.is_error) == ("fs.read failed: no such file", True)
    assert outcome_of(result(is_error=True), "fs.read", 1000).text == "fs.read failed: the tool gave no reason"


def test_cut_keeps_short_text_and_marks_long_text():
    assert cut("abc", 3) == "abc"
    assert cut("abcdef", 3) == "abc\n[result cut: 3 of 6 characters left out]"


def test_mcp_is_imported_only_when_a_server_starts(tmp_path):
    import subprocess
    import sys

    script = (
        "import asyncio, sys\n"
        "from agentterm.config import load_settings\n"
        "from agentterm.models import Agent\n"
        "from agentterm.tools import MCPTools\n"
        "p = sys.argv[1] + '/c.toml'\n"
        "open(p, 'w').write('[mcp_servers.t]\\ncommand = \"x\"\\n')\n"
        "tools = MCPTools(load_settings(p), log_dir=sys.argv[1])\n"
        "print(asyncio.run(tools.list_tools(Agent(id=1, name='a'))), 'mcp' in sys.modules, 'httpx2' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[] False False", done.stderr
