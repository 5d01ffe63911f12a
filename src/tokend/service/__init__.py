"""The use cases: what tokend does, independent of how it is asked (HTTP, CLI)."""
