"""tokend: self-hosted personal access tokens, Vercel-API compatible."""

__version__ = "0.1.0"

__all__ = ["__version__"]
