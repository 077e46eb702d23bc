"""`agentterm chats compact ID [--drop]`: make room in a conversation's context now, not at a send.

The twin of the app's "Make room in the context". `ask`, `chats regenerate|continue|edit-prompt`
take --drop-oldest / --compact for the same when a request would not fit.
"""

from __future__ import annotations

import asyncio

from agentterm.cli.context import CliError, Context, out


def register(sub, common) -> None:
    p = sub.add_parser("compact", parents=[common],
                       help="summarise every turn but the newest into one message sent in their place "
                            "(they stay in the conversation)")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--drop", action="store_true",
                   help="leave them out of what is sent instead, without a summary")
    p.set_defaults(handler=compact)


def add_room_options(parser) -> None:
    """--drop-oldest / --compact: what a turn does when its request would not fit the window."""
    room = parser.add_mutually_exclusive_group()
    room.add_argument("--drop-oldest", dest="overflow", action="store_const", const="drop",
                      help="when the request would not fit the model's window, leave the oldest turns "
                           "out of what is sent (they stay in the conversation)")
    room.add_argument("--compact", dest="overflow", action="store_const", const="compact",
                      help="when it would not fit, have the model summarise the oldest turns into one "
                           "message, sent in their place (they stay in the conversation)")


def compact(ctx: Context) -> int:
    from agentterm.cli.chat_turns import _open
    from agentterm.engine import TurnRefused
    from agentterm.engine.fitting import make_room_now
    from agentterm.engine.stores import as_async

    conversation = _open(ctx)
    agent = ctx.store.get_agent(conversation.agent_id) if conversation.agent_id else None
    provider = conversation.provider or (agent.provider if agent else None)
    model = ctx.client.resolve_model(provider, conversation.model or (agent.model if agent else None))
    async def run():
        return await make_room_now(as_async(ctx.store), ctx.client, conversation,
                                   "drop" if ctx.args.drop else "compact", provider=provider, model=model)

    try:
        cut = asyncio.run(run())
    except TurnRefused as refused:
        raise CliError(refused.message, refused.hint) from None
    how = (f"summarised into message {cut.summary.id}" if cut.summary is not None
           else "left out of what is sent")
    out(f"The {cut.dropped} oldest turn(s) of {conversation.id} are {how}; they stay in the conversation "
        f"(`agentterm chats show {conversation.id}`).")
    return 0
