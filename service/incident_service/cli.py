"""Command line: `incident-service serve | export-schema | create-api-key`."""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path

from incident_service.config import ConfigError, Settings, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="incident-service", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP/websocket server")
    serve.add_argument("--host", help="bind address (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: PORT or 8000)")
    sub.add_parser("export-schema", help="print the GraphQL SDL to stdout")
    create_key = sub.add_parser(
        "create-api-key", help="create an API key in the configured database; prints it once"
    )
    create_key.add_argument("--name", required=True, help="unique name, shown on the timeline")
    create_key.add_argument("--role", required=True, choices=["VIEWER", "RESPONDER", "ADMIN"])
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args.host, args.port)
        if args.command == "create-api-key":
            from incident_service.apikeys.cli import create_api_key

            return create_api_key(load_settings(), args.name, args.role)
        return _export_schema()
    except ConfigError as exc:
        print(f"incident-service: {exc}", file=sys.stderr)
        return 2


def _export_schema() -> int:
    from incident_service.api.schema import build_schema

    sys.stdout.write(build_schema().as_str().rstrip() + "\n")
    return 0


def _serve(host: str | None, port: int | None) -> int:
    from incident_service import logging_setup, server
    from incident_service.app import create_app
    from incident_service.embedded import EmbeddedError, EmbeddedMongo
    from incident_service.store.database import DatabaseUnavailable, check_reachable

    settings = load_settings()
    logging_setup.configure(settings.log_level, settings.log_format)
    embedded: EmbeddedMongo | None = None
    uri = settings.mongodb_uri
    try:
        if not uri:
            embedded = EmbeddedMongo(settings.data_dir)
            embedded.start(settings.embedded_start_timeout)
            uri = embedded.uri
            print(
                f"incident-service: embedded database on {uri}, data in {settings.data_dir}",
                file=sys.stderr,
            )
        else:
            check_reachable(uri)
        _bootstrap_admin_key(settings)
        app = create_app(settings, uri)
        # Drains on SIGTERM: readyz 503, websockets closed with 1001 (server.py).
        server.run(
            app,
            host=host or settings.host,
            port=port or settings.port,
            ws_ping_interval=settings.ws_ping_interval,
            ws_ping_timeout=settings.ws_ping_interval,
            # A websocket frame is bounded like an HTTP body.
            ws_max_size=settings.max_body_bytes,
            timeout_graceful_shutdown=int(settings.shutdown_grace_seconds) or None,
            log_level=settings.log_level.lower(),
            log_config=None,  # keep logging_setup's JSON handler
            proxy_headers=True,
        )
    except (EmbeddedError, DatabaseUnavailable) as exc:
        print(f"incident-service: {exc}", file=sys.stderr)
        return 1
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def _bootstrap_admin_key(settings: Settings) -> None:
    """In development with no ADMIN_API_KEY, make one once and keep it in the data folder."""
    if settings.admin_api_key or settings.is_production:
        return
    path = Path(settings.data_dir) / "admin-api-key"
    if path.exists():
        settings.admin_api_key = path.read_text().strip()
        print(f"incident-service: admin API key is in {path}", file=sys.stderr)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    key = "isk_" + secrets.token_urlsafe(32)
    path.write_text(key + "\n")
    path.chmod(0o600)
    settings.admin_api_key = key
    print(
        f"incident-service: generated an admin API key (kept in {path}; shown only now):\n"
        f"    {key}\n"
        f"  use it as:  Authorization: Bearer {key}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    sys.exit(main())
