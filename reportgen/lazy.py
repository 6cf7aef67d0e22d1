"""Deferred imports: a report that needs no goroutine, escape or benchmark
page should not pay for loading their modules."""

from __future__ import annotations

import importlib


def lazy(target: str):
    """A function that imports `package.module:name` when first called."""
    module, _, name = target.partition(":")

    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)
    return call
