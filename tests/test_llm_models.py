"""Model lists: what the server lists, no list at all, and bad replies."""

from __future__ import annotations

import pytest

from agentterm.llm import AuthFailed, BadResponse, LLMClient, ServerError, Unreachable
from tests.llm_helpers import free_port
from tests.openai_server import Error, Raw

# --- models ------------------------------------------------------------------------------------


async def test_list_models(client, server):
    server.models = ["zeta", "alpha", "/models/llama.gguf"]
    assert await client.list_models() == ["/models/llama.gguf", "alpha", "zeta"]
    assert ("GET", "/v1/models") in server.hits


async def test_list_models_without_a_model_list_is_empty(client, server):
    server.models = None
    assert await client.list_models("local") == []


@pytest.mark.parametrize("reply,error_type", [
    (Raw(), BadResponse),
    (Raw(200, "{oops", "application/json"), BadResponse),
    (Raw(200, "[]", "application/json"), BadResponse),
    (Error(500, "down"), ServerError),
])
async def test_list_models_bad_replies(client, server, reply, error_type):
    server.models_response = reply
    with pytest.raises(error_type):
        await client.list_models()


async def test_list_models_faults_raise(client, server, settings):
    server.api_key = "sk-other"
    with pytest.raises(AuthFailed):
        await client.list_models()
    settings.providers["local"].base_url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(Unreachable):
        await LLMClient(settings).list_models()
