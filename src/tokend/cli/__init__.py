"""The ``tokend`` command."""

from tokend.cli.app import app, main

__all__ = ["app", "main"]
