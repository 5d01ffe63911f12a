"""The composition root of `tokend serve`: the JSON API and the web pages in one ASGI
app, over one set of services (``app.state.services``).

`tokend.api.create_app` stays the API alone; `tokend.web` adds the pages to it. Neither
entrypoint imports the other: they meet here.
"""

from fastapi import FastAPI

from tokend import web
from tokend.api.app import create_app as create_api_app
from tokend.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    app = create_api_app(settings)
    web.install(app)
    return app
