"""A store fault (locked, damaged, full disk) becomes a notice, never a crash of the app."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from agentterm.store import StoreError


def report(node: Any, error: StoreError, title: str = "The store could not do that") -> None:
    """The store's fault as a notice (a server away: once in a while, not once a call)."""
    notice = getattr(node.app, "store_notice", None)
    if notice is not None:
        notice(error, title=title)
        return
    node.notify(f"{error}", title=title, severity="error", markup=False)


_report = report


def store_guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a handler or action of a widget or screen (its first argument is the node)."""
    if inspect.iscoroutinefunction(method):
        @functools.wraps(method)
        async def run_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return await method(self, *args, **kwargs)
            except StoreError as error:
                _report(self, error)
                return None

        return run_async

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except StoreError as error:
            _report(self, error)
            return None

    return run


def guarded(node: Any, callback: Callable[..., Any]) -> Callable[..., Any]:
    """The same for a callback, such as what a dialog's answer runs."""
    if inspect.iscoroutinefunction(callback):
        @functools.wraps(callback)
        async def run_async(*args: Any) -> Any:
            try:
                return await callback(*args)
            except StoreError as error:
                _report(node, error)
                return None

        return run_async

    @functools.wraps(callback)
    def run(*args: Any) -> Any:
        try:
            return callback(*args)
        except StoreError as error:
            _report(node, error)
            return None

    return run
