"""Running the service: check the settings in this process (rules, key file, log, port), then start uvicorn.

Workers are uvicorn processes that each import `app.app_from_env` and so build their own app and engine from the
settings left in the environment; with one worker, uvicorn runs the app in this process.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import sys
import threading
import time
import webbrowser

from nea_policy.errors import InputError
from nea_policy.service.context import Service
from nea_policy.service.settings import ENV_VAR, Settings

APP_FACTORY = "nea_policy.service.app:app_from_env"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> int:
    """The port to listen on (a free one for 0), or an error that says what to do when the address cannot be
    listened on (taken, or not this machine's)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # The same option uvicorn sets, so that a port in TIME_WAIT is not taken for a port in use.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(f"cannot listen there: {exc.strerror}", code="cannot_listen", location=f"{host}:{port}", hint="choose another --port, or stop what uses it") from None
        return int(probe.getsockname()[1])


def banner(service: Service, settings: Settings) -> str:
    """What `nea-policy serve` says before uvicorn starts."""
    workers = f"{settings.workers} worker{'s' if settings.workers > 1 else ''}"
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    lines = [f"nea-policy serve: rules {service.ruleset.version} ({service.ruleset.digest}), {workers}; the page at http://{shown}:{settings.port}/, API docs at http://{shown}:{settings.port}/docs"]
    if not _is_loopback(settings.host) and not service.api_keys:
        lines.append(f"warning: listening on {settings.host} without --api-key-file: anyone who can reach this address can use the service")
    return "\n".join(lines)


def page_url(settings: Settings) -> str:
    """Where a browser on this machine finds the page (loopback when the server listens on every interface)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(settings.host, settings.host)
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.port}/"


def open_when_ready(settings: Settings, *, seconds: float = 60) -> threading.Thread:
    """Open the page in the user's browser once the server answers (a thread; it says so when no browser is found)."""

    def wait_then_open() -> None:
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(settings.host, settings.host)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            connection = http.client.HTTPConnection(host, settings.port, timeout=2)
            try:
                connection.request("GET", "/v1/health")
                if connection.getresponse().status < 500:
                    break
            except OSError:
                time.sleep(0.2)
            finally:
                connection.close()
        url = page_url(settings)
        try:
            webbrowser.get().open(url)
        except webbrowser.Error:
            print(f"nea-policy serve: no web browser found here; open {url} in one", file=sys.stderr, flush=True)

    thread = threading.Thread(target=wait_then_open, name="open-browser", daemon=True)
    thread.start()
    return thread


def serve(settings: Settings, *, open_browser: bool = False) -> None:
    """Start the service and run until interrupted (Ctrl+C or SIGTERM stop it gracefully); `open_browser`: open the page once it answers."""
    service = Service.start(settings)  # the rules, the key file and the log are checked here, with the CLI's errors
    service.log.close()
    # --port 0: the free port is chosen here, so that the banner (and every worker) names the real one.
    settings = settings.model_copy(update={"port": check_port(settings.host, settings.port)})
    print(banner(service, settings), file=sys.stderr, flush=True)
    os.environ[ENV_VAR] = settings.to_env()
    if open_browser:
        open_when_ready(settings)
    import uvicorn

    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        access_log=settings.access_log,
    )
