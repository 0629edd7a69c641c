"""The HTTP service (`nea-policy serve`): imports api and the layers below it, and the page (`web/`) it mounts.

One FastAPI app per worker process (`app.create_app`), thin over `nea_policy.api`: each endpoint parses its body,
calls the library function the command line calls, and answers its JSON, with RFC 9457 problems for errors.
"""
