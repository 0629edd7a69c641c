"""The student page (`nea-policy serve` at `/`): imports api and the layers below it; the service mounts its router.

Server-rendered HTML (Jinja2 templates, autoescaped) with one small script of its own (`static/page.js`, no
framework, nothing from a CDN): a form generated from the fact schema, every control named by its field path; the
results beside it after every change; why not, with verified changes to apply; sweeps; downloads; a link that holds
the whole state; and a guided mode that asks one question at a time. The server side calls the library (`api`),
never rule logic of its own.
"""

from nea_policy.web.routes import router

__all__ = ["router"]
