"""Write a deterministic benchmark store: agents, 10,000 conversations, 200,000 Markdown messages.

    python -m bench.generate --db /tmp/agentterm-bench/big.db            # the full store
    python -m bench.generate --db /tmp/small.db --conversations 200 --messages 4000

The schema, the seeded agent and the extra agents go through the Store API; conversations and
messages go in as bulk SQL inside one transaction, with the store's own triggers left on, so the
FTS5 indexes and the denormalised counters (message_count, tokens) are kept exactly as the app
keeps them. The result is then checked through Store methods and against SQL recounts.

Among the conversations are three made for the benchmarks, pinned and the newest in the store (so
they head the sidebar), titled "Bench: 10 messages", "Bench: 1,000 messages", "Bench: 10,000 messages".
The message total includes theirs. The same seed gives the same store, byte for byte in content.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# A fixed "now", so that the same seed gives the same store whatever the day.
BASE = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SPECIAL = {10: "Bench: 10 messages", 1_000: "Bench: 1,000 messages", 10_000: "Bench: 10,000 messages"}

AGENTS = [
    ("Coder", "active", "Writes and reviews code.", "gpt-4o"),
    ("Reviewer", "active", "Reviews pull requests line by line.", "gpt-4o-mini"),
    ("Writer", "active", "Edits prose.", "gpt-4o"),
    ("SQL helper", "active", "Answers questions about SQLite and Postgres.", "gpt-4o-mini"),
    ("Ops", "paused", "Shell and infrastructure questions.", "llama3.1:8b"),
    ("Translator", "inactive", "French and German.", "mistral-small"),
]

WORDS = """
the a of to and in is it that for on with as this be are by from at or an not you we can your
if will but all one which when there more use so how what some out up into about than them
function value return error file list data string type class method call object array module
import config server request response client query table index column row database cache
test assert mock fixture event loop thread process memory buffer stream token model prompt
answer widget screen layout render style terminal cursor scroll window sidebar message key
build deploy container image network port socket timeout retry backoff schedule worker queue
parse format encode decode json yaml toml markdown header footer link path directory user
session state store commit branch merge rebase diff patch release version migrate schema
performance latency throughput profile benchmark optimise allocate garbage collect refactor
simple small large fast slow correct wrong careful clear explicit implicit default option flag
""".split()
TOPICS = """
SQLite indexes|Python asyncio|Rust lifetimes|Docker networking|Git rebase|Kubernetes probes|
Textual layouts|Postgres vacuum|HTTP caching|TLS certificates|Bash arrays|React hooks|
Go channels|CSS grid|Regex lookahead|Unicode normalisation|Terraform modules|Redis streams|
Nginx proxy|systemd units|pytest fixtures|type hints|JSON schema|OAuth flows|WebSockets|
memory leaks|profiling|garbage collection|binary search|hash maps|B-trees|event sourcing
""".replace("\n", "").split("|")
CODE = {
    "python": [
        "import sqlite3\n\ndef newest(conn, cid, n=50):\n    rows = conn.execute(\n"
        "        \"SELECT * FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT ?\",\n"
        "        (cid, n),\n    ).fetchall()\n    return rows[::-1]",
        "async def stream(client, prompt):\n    async for chunk in client.stream(prompt):\n"
        "        if chunk.text:\n            yield chunk.text\n    await client.close()",
        "class Cache:\n    def __init__(self, size: int = 128) -> None:\n        self.size = size\n"
        "        self.data: dict[str, bytes] = {}\n\n    def get(self, key: str) -> bytes | None:\n"
        "        return self.data.get(key)",
        "for index, item in enumerate(items):\n    if item is None:\n        continue\n"
        "    total += item.value * weights[index]\nprint(f\"total: {total:.2f}\")",
    ],
    "javascript": [
        "export function debounce(fn, ms) {\n  let timer;\n  return (...args) => {\n"
        "    clearTimeout(timer);\n    timer = setTimeout(() => fn(...args), ms);\n  };\n}",
        "const res = await fetch(url, { headers: { Accept: 'application/json' } });\n"
        "if (!res.ok) throw new Error(`HTTP ${res.status}`);\nconst data = await res.json();",
    ],
    "bash": [
        "set -euo pipefail\nfor f in *.log; do\n  gzip -9 \"$f\"\ndone\nls -lh *.gz | sort -k5 -h",
        "docker run --rm -p 8080:80 -v \"$PWD\":/usr/share/nginx/html:ro nginx:alpine",
        "git fetch origin && git rebase -i origin/main\ngit push --force-with-lease",
    ],
    "sql": [
        "CREATE INDEX messages_conversation ON messages (conversation_id, id);\n"
        "EXPLAIN QUERY PLAN\nSELECT * FROM messages WHERE conversation_id = 42\n"
        "ORDER BY id DESC LIMIT 50;",
        "SELECT c.title, count(*) AS n\n  FROM conversations c JOIN messages m ON m.conversation_id = c.id\n"
        " GROUP BY c.id ORDER BY n DESC LIMIT 10;",
    ],
    "rust": [
        "fn longest<'a>(x: &'a str, y: &'a str) -> &'a str {\n    if x.len() > y.len() { x } else { y }\n}",
    ],
}


class Writer:
    """Realistic chat text from a seeded RNG: questions, and answers in Markdown with code."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        # Word frequencies follow Zipf's law, as in real text: "the" is in nearly every message,
        # which is what makes a search for a common word costly.
        self.weights = [1 / (rank + 1) for rank in range(len(WORDS))]
        # Pools drawn once, then sampled: fast, and still varied enough for search and layout.
        self.sentences = [self._sentence() for _ in range(4000)]

    def _sentence(self) -> str:
        rng = self.rng
        words = rng.choices(WORDS, self.weights, k=rng.randint(6, 22))
        if rng.random() < 0.3:
            words[rng.randrange(len(words))] = f"`{rng.choice(WORDS)}()`"
        if rng.random() < 0.2:
            i = rng.randrange(len(words))
            words[i] = f"**{words[i]}**"
        text = " ".join(words)
        return text[0].upper() + text[1:] + rng.choice(".....?!")

    def paragraph(self, low: int = 2, high: int = 5) -> str:
        return " ".join(self.rng.choice(self.sentences) for _ in range(self.rng.randint(low, high)))

    def prompt(self, topic: str) -> str:
        rng = self.rng
        text = f"{rng.choice(['How do I', 'Why does', 'Can you explain', 'What is wrong with', 'Help me with'])} {topic}? "
        text += self.paragraph(1, 3)
        if rng.random() < 0.15:
            lang = rng.choice(list(CODE))
            text += f"\n\n```{lang}\n{rng.choice(CODE[lang])}\n```"
        return text

    def answer(self, topic: str) -> str:
        rng = self.rng
        blocks = [self.paragraph(1, 3)]
        for _ in range(rng.randint(1, 4)):
            kind = rng.random()
            if kind < 0.3:
                lang = rng.choice(list(CODE))
                blocks.append(f"```{lang}\n{rng.choice(CODE[lang])}\n```")
            elif kind < 0.5:
                blocks.append("\n".join(f"- {rng.choice(self.sentences)}" for _ in range(rng.randint(2, 5))))
            elif kind < 0.6:
                blocks.append(f"## {topic}: {rng.choice(WORDS)} {rng.choice(WORDS)}")
            elif kind < 0.66:
                rows = [f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} | {rng.choice(WORDS)} |"
                        for _ in range(rng.randint(2, 4))]
                blocks.append("| name | value | note |\n| --- | --- | --- |\n" + "\n".join(rows))
            elif kind < 0.7:
                blocks.append(f"See [the {topic} docs](https://example.com/{rng.choice(WORDS)}) for more.")
            else:
                blocks.append(self.paragraph())
        return "\n\n".join(blocks)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` messages over `parts` conversations, each at least 2, skewed like real use."""
    if parts <= 0:
        return []
    weights = [rng.paretovariate(1.6) for _ in range(parts)]
    scale = (total - 2 * parts) / sum(weights)
    sizes = [2 + int(w * scale) for w in weights]
    for i in range(total - sum(sizes)):  # hand out what rounding left
        sizes[i % parts] += 1
    return sizes


def generate(db_path: Path, *, conversations: int, messages: int, seed: int, quiet: bool = False) -> dict:
    from agentterm.store import Store

    if db_path.exists():
        raise SystemExit(f"{db_path} exists; remove it first (the generator never appends).")
    started = time.perf_counter()
    rng = random.Random(seed)
    writer = Writer(rng)
    store = Store(db_path)
    agents = [store.default_agent()]
    for name, status, description, model in AGENTS:
        agents.append(store.create_agent(name, description=description, status=status, model=model))
    store.close()

    specials = sorted(n for n in SPECIAL if n <= messages // 4) if conversations >= 3 else []
    ordinary = conversations - len(specials)
    sizes = _split(messages - sum(specials), ordinary, rng) + specials
    # Oldest first, so ids follow time as they do in a store filled by use; specials newest.
    span = timedelta(days=730)
    starts = sorted(BASE - span * rng.random() ** 0.7 for _ in range(ordinary))
    starts += [BASE - timedelta(minutes=30 * (len(specials) - i)) for i in range(len(specials))]

    conn = sqlite3.connect(str(db_path), isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -200000")
    conn.execute("BEGIN IMMEDIATE")
    next_mid = 1
    for index, (size, start) in enumerate(zip(sizes, starts)):
        agent = rng.choice(agents + [None])
        topic = rng.choice(TOPICS)
        if size in SPECIAL and index >= ordinary:
            title, title_source = SPECIAL[size], "user"
        else:
            title = f"{topic}: {rng.choice(WORDS)} {rng.choice(WORDS)}" if rng.random() < 0.95 else ""
            title_source = "auto" if title else None
        # Gaps of seconds to hours between messages, ending at the conversation's last activity.
        gaps = [rng.expovariate(1 / 90) for _ in range(size)]
        times = []
        moment = start
        for gap in gaps:
            moment += timedelta(seconds=gap)
            times.append(moment)
        if index >= ordinary:  # the benchmark conversations end at their start time exactly
            shift = start - times[-1]
            times = [t + shift for t in times]
        created, last = times[0], times[-1]
        archived = _iso(last + timedelta(days=1)) if rng.random() < 0.01 and index < ordinary else None
        # Trashed within the last 20 days: the app purges the trash after 30, which would change
        # the store under the benchmarks.
        deleted = (_iso(BASE - timedelta(days=20 * rng.random()))
                   if rng.random() < 0.005 and index < ordinary else None)
        cid = conn.execute(
            "INSERT INTO conversations (title, title_source, agent_id, agent_name, pinned, archived_at,"
            " deleted_at, created_at, last_activity_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [title, title_source, agent.id if agent else None, agent.name if agent else None,
             int(index >= ordinary or rng.random() < 0.0005), archived, deleted, _iso(created), _iso(last)],
        ).lastrowid
        if rng.random() < 0.1:
            conn.executemany("INSERT INTO tags (conversation_id, tag) VALUES (?, ?)",
                             [(cid, tag) for tag in sorted(set(rng.sample(["work", "home", "sql", "rust", "ops", "later"], 2)))])
        rows = []
        for i, when in enumerate(times):
            if i % 2 == 0:
                rows.append((cid, "user", writer.prompt(topic), "complete", None, None, None, None,
                             _iso(when)))
            else:
                content = writer.answer(topic)
                status = "complete" if rng.random() > 0.002 else "interrupted"
                rows.append((cid, "assistant", content, status, agent.model if agent else "gpt-4o-mini",
                             agent.version if agent else None, rng.randint(20, 4000), len(content) // 4,
                             _iso(when)))
        conn.executemany(
            "INSERT INTO messages (conversation_id, role, content, status, model, agent_version,"
            " prompt_tokens, completion_tokens, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        next_mid += len(rows)
        if not quiet and (index + 1) % 1000 == 0:
            print(f"  {index + 1:,} conversations, {next_mid - 1:,} messages, "
                  f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    elapsed = time.perf_counter() - started
    summary = verify(db_path, conversations=conversations, messages=messages, specials=specials)
    summary["seconds"] = round(elapsed, 1)
    return summary


def verify(db_path: Path, *, conversations: int, messages: int, specials: list[int]) -> dict:
    """Check the store through its own API, and the counters and FTS against recounts."""
    from agentterm.store import Store

    with Store(db_path) as store:
        stats = store.stats()
        total = stats["conversations"] + stats["trashed"]
        assert total == conversations, (total, conversations)
        raw = store.db.execute("SELECT count(*) FROM messages").fetchone()[0]
        assert raw == messages, (raw, messages)
        wrong = store.db.execute(
            """SELECT count(*) FROM conversations c
                WHERE c.message_count != (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)
                   OR c.tokens != (SELECT coalesce(sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)), 0)
                                     FROM messages m WHERE m.conversation_id = c.id)"""
        ).fetchone()[0]
        assert wrong == 0, f"{wrong} conversations have wrong counters"
        store.db.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
        store.db.execute("INSERT INTO conversations_fts (conversations_fts) VALUES ('integrity-check')")
        ids = {}
        for size in specials:
            found = store.list_conversations(view="inbox", query=SPECIAL[size], limit=1)
            assert found and store.count_messages(found[0].id) == size, (size, found)
            assert len(store.latest_messages(found[0].id, 50)) == min(size, 50)
            ids[size] = found[0].id
        top = store.list_conversations(view="inbox", limit=len(specials))
        assert sorted(c.id for c in top) == sorted(ids.values()), "the bench conversations should head the sidebar"
        assert store.search("sqlite index", limit=5), "search found nothing"
        return {
            "db": str(db_path),
            "bytes": db_path.stat().st_size,
            "conversations": total,
            "inbox": store.count_conversations("inbox"),
            "messages": raw,
            "tokens": stats["tokens"],
            "agents": sum(stats["agents"].values()),
            "special_ids": ids,
        }


def special_ids(store) -> dict[int, int]:
    """{message count: conversation id} for the benchmark conversations of a generated store."""
    ids = {}
    for size, title in SPECIAL.items():
        found = store.list_conversations(view="inbox", query=title, limit=1)
        if found:
            ids[size] = found[0].id
    return ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="the store to write (must not exist)")
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    summary = generate(args.db, conversations=args.conversations, messages=args.messages,
                       seed=args.seed, quiet=args.quiet)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
