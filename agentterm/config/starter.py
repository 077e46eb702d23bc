"""The commented starter config, and writing it where no config exists yet."""

from __future__ import annotations

import os
from pathlib import Path

from agentterm.config.settings import ConfigError


def write_default_config(path: Path | str, *, overwrite: bool = False) -> Path:
    """Write a commented starter config (file 0600; a directory it creates is 0700)."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError("is a directory, not a config file", path=path)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True)
            os.chmod(path.parent, 0o700)  # mkdir's mode is filtered by the umask
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise ConfigError("already exists; it was left as it is", path=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot be written: {exc.strerror or exc}", path=path) from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        if hasattr(os, "fchmod"):  # an existing file being overwritten keeps no looser mode
            os.fchmod(handle.fileno(), 0o600)
        handle.write(STARTER_CONFIG)
    return path


STARTER_CONFIG = """\
# agentterm's configuration. Every key is described in docs/configuration.md.
#
# API keys are never written here: give the name of an environment variable that holds the key
# (api_key_env) or a command that prints it (api_key_cmd).

# default_provider = "openai"   # unset: the first [providers.*] table below
# default_agent = "Assistant"   # preselected when you start a new conversation
# trash_days = 30               # purge conversations trashed longer ago than this; 0 = never
# theme = "textual-dark"
# max_steps = 20                # the most model requests one turn may make while calling tools
# max_tool_result_chars = 20000 # a longer tool result is cut (with a marker) before the model sees it
# max_attachment_bytes = 262144 # the largest text file @path (or ask -f) attaches
# max_image_bytes = 5242880     # the largest image attached, for models that take images

[providers.openai]
api_key_env = "OPENAI_API_KEY"
model = "gpt-4o-mini"
# title_model = "gpt-4o-mini"                 # the model that writes titles; unset: model
# base_url = "https://api.openai.com/v1"      # unset: OpenAI, or $OPENAI_BASE_URL
# api_key_cmd = "pass show openai"            # instead of api_key_env; run without a shell
# timeout = 60                                # seconds
# vision = true                               # its models take images; unset: known by name

# [providers.ollama]
# base_url = "http://localhost:11434/v1"
# model = "llama3.2"

# [providers.llamacpp]                        # llama.cpp's llama-server
# base_url = "http://localhost:8080/v1"
# model = "local"

# [providers.openrouter]
# base_url = "https://openrouter.ai/api/v1"
# api_key_env = "OPENROUTER_API_KEY"
# model = "openai/gpt-4o-mini"

# MCP servers give agents tools; an agent names the ones it may use (mcp_servers = ["time"]).
# [mcp_servers.time]                          # a stdio server: command, args, env, cwd
# command = "uvx"
# args = ["mcp-server-time", "--local-timezone", "UTC"]
# timeout = 60                                # seconds one tool call may take
#
# [mcp_servers.docs]                          # a streamable-HTTP server
# url = "http://127.0.0.1:8931/mcp"
# headers_env = { Authorization = "DOCS_TOKEN" }   # the header's value is read from $DOCS_TOKEN

# [keymap]                                    # binding id = key(s); the ids are in docs/keys.md
# "app.new_conversation" = "ctrl+t"
"""
