"""A store fault (locked, damaged, full disk) becomes a notice, never a crash of the app."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from agentterm.store import StoreError


def _report(node: Any, error: StoreError) -> None:
    node.notify(f"{error}", title="The store could not do that", severity="error", markup=False)


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
