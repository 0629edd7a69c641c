"""The app factory: one FastAPI app per worker process, with its own engine, over the library's functions.

`create_app(settings, pages=...)` builds it; `app_from_env` is what uvicorn's workers import (settings from the
environment). The routers of `pages` are mounted at the root: the student page (`nea_policy.web`) goes there; without
one, `/` leads to the API's docs page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from starlette.responses import RedirectResponse

from nea_policy import __version__
from nea_policy.service import endpoints, info
from nea_policy.service.context import Service
from nea_policy.service.docs import install_docs
from nea_policy.service.openapi import install_openapi
from nea_policy.service.problems import install_problem_handlers
from nea_policy.service.security import install_cors, require_api_key
from nea_policy.service.settings import Settings
from nea_policy.web import router as page_router

DESCRIPTION = """Policy recommendations for cross-border human flows in Northeast Asia, with their reasons: the
nea-policy library over HTTP. Bodies are scenarios (fact files) as JSON, or YAML with `Content-Type:
application/yaml`. Errors are RFC 9457 problems (`application/problem+json`) with the command line's codes and
messages, each located (line:column in YAML bodies, a JSON pointer in all). Every decision answer carries the
headers `NEA-Decision-Id`, `NEA-Ruleset-Version` and `NEA-Ruleset-Digest`."""


def create_app(settings: Settings | None = None, *, pages: Sequence[APIRouter] = ()) -> FastAPI:
    """The service's app: /v1 endpoints, /openapi.json, /docs, and the given page routers at the root."""
    settings = settings or Settings()
    service = Service.start(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        service.log.close()

    app = FastAPI(title="nea-policy", version=__version__, description=DESCRIPTION, docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.service = service
    keyed = [Depends(require_api_key)] if service.api_keys else []
    app.include_router(info.open_router, prefix="/v1")
    app.include_router(info.router, prefix="/v1", dependencies=keyed)
    app.include_router(endpoints.router, prefix="/v1", tags=["decisions"], dependencies=keyed)
    for page in pages:
        # behind the key too, when there is one: the page evaluates as the API does
        app.include_router(page, dependencies=keyed)
    if not pages:
        app.add_api_route("/", lambda: RedirectResponse("/docs"), methods=["GET"], include_in_schema=False)
    install_docs(app)
    install_openapi(app, api_key=bool(service.api_keys))
    install_problem_handlers(app)
    install_cors(app, settings.cors_origins)  # outermost, so that problems (500s included) carry CORS headers too
    return app


def default_pages() -> Sequence[APIRouter]:
    """The page routers `nea-policy serve` mounts at the root: the student page."""
    return (page_router,)


def app_from_env() -> FastAPI:
    """What each uvicorn worker calls (`--factory`): the app with the settings `nea-policy serve` put in the environment."""
    return create_app(Settings.from_env(), pages=default_pages())
