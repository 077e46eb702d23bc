"""agentterm: a terminal app for chatting with LLM agents."""

__version__ = "0.1.0"
