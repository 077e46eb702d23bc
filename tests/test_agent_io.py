"""Agent files: round trips, and errors that name the file, the line and the field."""

from __future__ import annotations

import pytest

from agentterm.agent_io import AgentFileError, agent_from_toml, agent_to_toml, validate_fields
from agentterm.models import Agent


def make_agent(**fields) -> Agent:
    base = dict(id=7, name="Reviewer", description="Reads diffs", status="paused",
                provider="local", model="gpt-x", instructions="Be terse.\nQuote lines.\n\"\"\" ok",
                temperature=0.3, top_p=0.9, max_tokens=512,
                extra={"seed": 4, "stop": ["END"], "response_format": {"type": "text"}})
    base.update(fields)
    return Agent(**base)


def test_round_trip_keeps_every_field():
    agent = make_agent()
    text = agent_to_toml(agent)
    assert 'format = "agentterm.agent"' in text
    fields = agent_from_toml(text)
    assert fields == {
        "name": "Reviewer", "description": "Reads diffs", "status": "paused",
        "provider": "local", "model": "gpt-x", "instructions": "Be terse.\nQuote lines.\n\"\"\" ok",
        "temperature": 0.3, "top_p": 0.9, "max_tokens": 512,
        "extra": {"seed": 4, "stop": ["END"], "response_format": {"type": "text"}},
        "mcp_servers": [], "allowed_tools": None, "tool_approval": "ask",
    }


def test_unset_fields_are_left_out_and_come_back_as_defaults():
    agent = Agent(id=1, name="Bare")
    text = agent_to_toml(agent)
    assert "temperature" not in text and "provider" not in text and "extra" not in text
    fields = agent_from_toml(text)
    assert fields["name"] == "Bare"
    assert fields["temperature"] is None and fields["provider"] is None
    assert fields["extra"] == {} and fields["status"] == "active"


def test_extra_with_null_survives_as_json():
    agent = make_agent(extra={"logit_bias": None, "n": 1})
    text = agent_to_toml(agent)
    assert "extra_json" in text
    assert agent_from_toml(text)["extra"] == {"logit_bias": None, "n": 1}


def test_integer_temperature_is_a_number():
    assert agent_from_toml('name = "A"\ntemperature = 1\n')["temperature"] == 1.0


def test_malformed_toml_names_file_and_line():
    with pytest.raises(AgentFileError) as info:
        agent_from_toml('name = "A"\ntemperature = = 2\n', source="a.agent.toml")
    assert info.value.line == 2
    assert str(info.value).startswith("a.agent.toml, line 2: not valid TOML")


@pytest.mark.parametrize(
    ("text", "field", "line", "why"),
    [
        ('name = "A"\n\ntemperature = 3.5\n', "temperature", 3, "between 0 and 2"),
        ('name = "A"\ntemperature = "hot"\n', "temperature", 2, "must be a number"),
        ('name = "A"\ntop_p = nan\n', "top_p", 2, "must be a number"),
        ('name = "A"\ntop_p = true\n', "top_p", 2, "must be a number"),
        ('name = "A"\nmax_tokens = 0\n', "max_tokens", 2, "positive"),
        ('name = "A"\nmax_tokens = 10.0\n', "max_tokens", 2, "positive whole number"),
        ('name = "A"\nstatus = "asleep"\n', "status", 2, "active, paused, retired"),
        ('name = ""\n', "name", 1, "is required"),
        (f'name = "{"x" * 81}"\n', "name", 1, "at most 80"),
        ('description = "no name"\n', "name", None, "required"),
        ('name = "A"\ntemprature = 1\n', "temprature", 2, "is not an agent field"),
        ('name = "A"\nextra = 3\n', "extra", 2, "must be a JSON object"),
        ('name = "A"\nextra_json = "[1]"\n', "extra_json", 2, "JSON object"),
        ('name = "A"\nextra_json = "{oops"\n', "extra_json", 2, "is not valid JSON"),
        ('format = "agentterm.chat"\nname = "A"\n', "format", 1, "not an agent file"),
        ('format_version = 9\nname = "A"\n', "format_version", 1, "newer"),
    ],
)
def test_invalid_fields_are_named(text, field, line, why):
    with pytest.raises(AgentFileError) as info:
        agent_from_toml(text, source="x.toml")
    error = info.value
    assert error.field == field
    assert error.line == line
    assert why in str(error)
    assert str(error).startswith("x.toml")
    assert field in str(error)


def test_validate_fields_rules():
    assert validate_fields({"name": "ok", "temperature": 2, "top_p": 0, "max_tokens": 1, "extra": {}}) == {}
    errors = validate_fields({"name": "  ", "temperature": float("nan"), "top_p": 1.5,
                              "max_tokens": True, "extra": []})
    assert set(errors) == {"name", "temperature", "top_p", "max_tokens", "extra"}
    assert "name" in validate_fields({"name": "two\nlines"})


def test_error_message_reads_as_a_sentence():
    with pytest.raises(AgentFileError) as info:
        agent_from_toml('name = "A"\n\ntemperature = 3.5\n', source="x.toml")
    assert str(info.value) == "x.toml, line 3: temperature must be between 0 and 2"


@pytest.mark.parametrize(
    "fields",
    [
        {"name": ""}, {"name": "x" * 81}, {"name": "a\u202eb"}, {"name": "ok"},
        {"temperature": 2.5}, {"temperature": float("nan")}, {"temperature": True},
        {"top_p": -0.1}, {"top_p": 1}, {"max_tokens": 0}, {"max_tokens": 5},
        {"status": "asleep"}, {"extra": [1]}, {"extra": {"seed": 1}},
    ],
)
def test_same_rules_as_the_store(store, fields):
    """A file the importer accepts is one the store saves, and the reverse."""
    assert set(validate_fields(fields)) == set(store.validate_agent_fields(fields))
