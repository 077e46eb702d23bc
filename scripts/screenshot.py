"""Make docs/screenshot.svg (and .png when rsvg-convert is present): the app with a few chats."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agentterm.config import load_settings  # noqa: E402
from agentterm.llm import LLMClient  # noqa: E402
from agentterm.store import Store  # noqa: E402
from tests.app_helpers import seed_conversation, settle  # noqa: E402
from tests.openai_server import FakeOpenAIServer  # noqa: E402

ANSWER = """Use a **context manager**, so the file is closed even when an error is raised:

```python
from pathlib import Path

with Path("notes.txt").open(encoding="utf-8") as f:
    for line in f:
        print(line.rstrip())
```

- `Path.open` takes the same arguments as `open`
- for a small file, `Path("notes.txt").read_text()` is shorter
"""


async def main() -> None:
    from tests.app_helpers import make_app

    out = ROOT / "docs" / "screenshot.svg"
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer() as server:
        config = Path(tmp) / "config.toml"
        config.write_text(f'[providers.local]\nbase_url = "{server.base_url}"\nmodel = "llama3.2"\n')
        store = Store(Path(tmp) / "agentterm.db")
        reviewer = store.create_agent("Reviewer", description="Reviews diffs", model="qwen2.5-coder")
        store.set_agent_status(reviewer.id, "paused")
        seed_conversation(store, "Borrow checker basics", [("Why does this not compile?", "Because...")],
                          age=timedelta(days=3))
        seed_conversation(store, "Sourdough schedule", [("Plan a bake", "Start the levain...")],
                          age=timedelta(days=12))
        seed_conversation(store, "SQL window functions", [("Explain ROW_NUMBER", "It numbers rows...")],
                          age=timedelta(hours=5))
        current = seed_conversation(store, "Reading a file in Python",
                                    [("How do I read a text file line by line in Python?", ANSWER)],
                                    age=timedelta(minutes=2))
        settings = load_settings(config)
        app = make_app(settings, store, LLMClient(settings))
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await app.screen.open_conversation(current.id)
            await settle(pilot)
            await pilot.pause(0.5)
            app.save_screenshot(filename=out.name, path=str(out.parent))
        store.close()
    print(f"wrote {out}")
    if shutil.which("rsvg-convert"):
        png = out.with_suffix(".png")
        subprocess.run(["rsvg-convert", "-o", str(png), str(out)], check=True)
        print(f"wrote {png}")


if __name__ == "__main__":
    asyncio.run(main())
