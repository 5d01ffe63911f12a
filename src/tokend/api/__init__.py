"""The HTTP adapter: FastAPI routes over the service layer."""

from tokend.api.app import create_app

__all__ = ["create_app"]
