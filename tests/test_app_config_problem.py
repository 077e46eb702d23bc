"""A config that cannot be read at the app's start: said in the app, which waits for the fix
(PRODUCT.md: a malformed config gets a clear message with its line, and the app keeps running)."""

from __future__ import annotations

from agentterm.config import load_settings
from agentterm.tui.config_problem import ConfigProblemApp


def _text(app) -> str:
    return " ".join(str(w.render()) for w in app.query("Static"))


async def test_a_broken_config_is_shown_with_its_line_and_r_reads_it_again(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('default_provider = "x"\n[providers.x\n', encoding="utf-8")

    def read():
        load_settings(config, required=True)

    try:
        read()
    except Exception as error:  # noqa: BLE001 - the real error, as the command line meets it
        first = str(error)
    app = ConfigProblemApp(first, read)
    async with app.run_test(size=(120, 40)) as pilot:
        assert "line 2" in _text(app) and str(config) in _text(app)
        await pilot.press("r")  # still broken: it says so, and stays
        await pilot.pause()
        assert app.is_running and app.return_value is None
        config.write_text('default_provider = "x"\n[providers.x]\nbase_url = 5\n', encoding="utf-8")
        await pilot.press("r")  # broken elsewhere now: the new line is shown
        await pilot.pause()
        assert "base_url" in _text(app) and "line 3" in _text(app)
        config.write_text('default_provider = "x"\n[providers.x]\nbase_url = "http://127.0.0.1:9/v1"\n',
                          encoding="utf-8")
        await pilot.press("r")
        await pilot.pause()
    assert app.return_value is True


async def test_q_quits_without_opening_anything(tmp_path):
    app = ConfigProblemApp("config.toml, line 1: bad", lambda: None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_value is False
