"""The TOML config as typed settings; every fault names the file, the line and the key."""

from agentterm.config.load import load_settings
from agentterm.config.settings import (
    DEFAULT_MAX_STEPS,
    DEFAULT_OPENAI_MODEL,
    DEFAULT_PROVIDER,
    DEFAULT_THEME,
    DEFAULT_TIMEOUT,
    DEFAULT_TITLE_TIMEOUT,
    DEFAULT_TRASH_DAYS,
    KEY_CMD_TIMEOUT,
    ConfigError,
    MCPServerConfig,
    ProviderConfig,
    Settings,
    default_settings,
)
from agentterm.config.starter import STARTER_CONFIG, write_default_config

__all__ = [
    "DEFAULT_MAX_STEPS",
    "DEFAULT_OPENAI_MODEL",
    "DEFAULT_PROVIDER",
    "DEFAULT_THEME",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TITLE_TIMEOUT",
    "DEFAULT_TRASH_DAYS",
    "KEY_CMD_TIMEOUT",
    "STARTER_CONFIG",
    "ConfigError",
    "MCPServerConfig",
    "ProviderConfig",
    "Settings",
    "default_settings",
    "load_settings",
    "write_default_config",
]
