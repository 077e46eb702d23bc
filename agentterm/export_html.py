"""A conversation as one self-contained HTML page: readable offline, nothing in it runs."""

from __future__ import annotations

import json
from html import escape
from typing import Any

ROLE_NAMES = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool"}

# No script, frame, form or remote fetch at all: only the page's own style and inline images.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

_CSS = """
body { font: 16px/1.55 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
       color: #1f2328; background: #fff; }
header { border-bottom: 1px solid #d0d7de; margin-bottom: 1.5rem; }
header p { color: #59636e; margin: .25rem 0 1rem; }
section.message { margin: 0 0 1.5rem; }
section.message > h2 { font-size: .95rem; margin: 0 0 .35rem; color: #59636e; }
section.user { background: #f6f8fa; border-radius: 8px; padding: .5rem 1rem; }
pre { background: #f6f8fa; padding: .75rem; border-radius: 6px; overflow-x: auto; }
section.user pre { background: #fff; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, monospace; }
details { border: 1px solid #d0d7de; border-radius: 6px; padding: .25rem .75rem; margin: .5rem 0; }
summary { cursor: pointer; color: #59636e; }
table { border-collapse: collapse; } th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; }
.status { color: #9a6700; }
@media (prefers-color-scheme: dark) {
  body { color: #e6edf3; background: #0d1117; }
  section.user, pre { background: #161b22; } section.user pre { background: #0d1117; }
}
"""


def to_html(export: dict[str, Any]) -> str:
    """Render `Store.export_conversation()` output as a standalone HTML document."""
    from pygments.formatters import HtmlFormatter

    conversation = export["conversation"]
    title = conversation.get("title") or "Untitled conversation"
    facts = [f"agent {conversation['agent_name']}" if conversation.get("agent_name") else "no agent"]
    if conversation.get("created_at"):
        facts.append(f"started {conversation['created_at'][:16].replace('T', ' ')} UTC")
    if conversation.get("tags"):
        facts.append("tags: " + ", ".join(conversation["tags"]))
    markdown = _markdown()
    body = [_message_html(m, markdown) for m in export["messages"]]
    style = _CSS + HtmlFormatter(style="default").get_style_defs("pre code")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{escape(title)}</title>",
        f"<style>{style}</style>",
        "</head>",
        "<body>",
        f"<header><h1>{escape(title)}</h1><p>{escape(' · '.join(facts))}</p></header>",
        "<main>",
        *body,
        "</main>",
        "</body>",
        "</html>",
        "",
    ])


def _message_html(message: dict[str, Any], markdown) -> str:
    role = message.get("role", "")
    heading = escape(ROLE_NAMES.get(role, role.title()))
    if message.get("model") and role == "assistant":
        heading += f" <small>({escape(message['model'])})</small>"
    if message.get("status") not in (None, "complete"):
        heading += f' <span class="status">({escape(message["status"])})</span>'
    parts = [f'<section class="message {escape(role)}">', f"<h2>{heading}</h2>"]
    if message.get("thinking"):
        parts.append(_fold("Thinking", markdown.render(message["thinking"])))
    content = message.get("content") or ""
    if role == "tool":
        name = message.get("tool_name") or "a tool"
        parts.append(_fold(f"Result of {name}", f"<pre><code>{escape(content)}</code></pre>"))
    elif content:
        parts.append(markdown.render(content))
    for call in message.get("tool_calls") or []:
        parts.append(_tool_call_html(call))
    if (message.get("extra") or {}).get("error"):
        parts.append(f'<p class="status">Error: {escape(str(message["extra"]["error"]))}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _tool_call_html(call: dict[str, Any]) -> str:
    name = call.get("name") or call.get("tool") or "tool"
    status = call.get("status") or ""
    arguments = call.get("arguments") or ""
    try:
        arguments = json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        pass
    inner = [f"<p>Arguments</p><pre><code>{escape(str(arguments))}</code></pre>"]
    for key, label in (("result", "Result"), ("error", "Error"), ("reason", "Reason for denial")):
        if call.get(key):
            inner.append(f"<p>{label}</p><pre><code>{escape(str(call[key]))}</code></pre>")
    summary = f"Tool call: {name}" + (f" ({status})" if status else "")
    return _fold(summary, "\n".join(inner))


def _fold(summary: str, inner_html: str) -> str:
    return f"<details><summary>{escape(summary)}</summary>\n{inner_html}\n</details>"


def _markdown():
    """CommonMark with raw HTML off (it shows as text) and links checked (no javascript: etc.)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "highlight": _highlight}).enable(["table", "strikethrough"])
    md.validateLink = _safe_link
    md.add_render_rule("image", _image)
    return md


def _image(self, tokens, idx, options, env) -> str:
    # A remote image would be fetched on opening (a tracker, and not offline): it becomes a link.
    token = tokens[idx]
    src = token.attrGet("src") or ""
    alt = self.renderInlineAsText(token.children or [], options, env)
    if src.lower().startswith("data:image/"):
        return f'<img src="{escape(src)}" alt="{escape(alt)}">'
    return f'<a href="{escape(src)}">[image: {escape(alt or src)}]</a>'


_SAFE_SCHEMES = ("http:", "https:", "mailto:")


def _safe_link(url: str) -> bool:
    # Only web and mail links, and relative ones; a data: image only if it is a raster image.
    lowered = "".join(url.split()).lower()
    if lowered.startswith(("data:image/png", "data:image/jpeg", "data:image/gif", "data:image/webp")):
        return True
    scheme, sep, _ = lowered.partition(":")
    if not sep or "/" in scheme or "?" in scheme or "#" in scheme:
        return True
    return lowered.startswith(_SAFE_SCHEMES)


def _highlight(code: str, lang: str, _attrs: str) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(lang.strip()) if lang.strip() else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""  # markdown-it escapes the code itself
    # Spans only (pygments escapes the code); markdown-it wraps them in <pre><code>.
    return highlight(code, lexer, HtmlFormatter(nowrap=True))
