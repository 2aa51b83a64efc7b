"""Command line: `incident-service serve | export-schema | operations-manifest |
create-api-key | templates restore`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from incident_service.config import ConfigError, Settings, load_settings
from incident_service.domain.principal import Role


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="incident-service", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP/websocket server")
    serve.add_argument("--host", help="bind address (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: PORT or 8000)")
    sub.add_parser("export-schema", help="print the GraphQL SDL to stdout")
    manifest = sub.add_parser(
        "operations-manifest",
        help="print the persisted-documents manifest of a folder of .graphql operations",
    )
    manifest.add_argument("folder", type=Path, help="e.g. schema/operations")
    create_key = sub.add_parser(
        "create-api-key", help="create an API key in the configured database; prints it once"
    )
    create_key.add_argument("--name", required=True, help="unique name, shown on the timeline")
    create_key.add_argument("--role", required=True, choices=["VIEWER", "RESPONDER", "ADMIN"])
    templates = sub.add_parser("templates", help="manage the built-in playbook templates")
    templates.add_argument(
        "action",
        choices=["restore"],
        help="restore: put every built-in playbook back as shipped (edits lost, unarchived)",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args.host, args.port)
        if args.command == "create-api-key":
            return _create_api_key(load_settings(), args.name, args.role)
        if args.command == "templates":
            return _restore_templates(load_settings())
        if args.command == "operations-manifest":
            return _operations_manifest(args.folder)
        return _export_schema()
    except ConfigError as exc:
        _say(str(exc))
        return 2


def _say(message: str) -> None:
    print(f"incident-service: {message}", file=sys.stderr)


def _operations_manifest(folder: Path) -> int:
    from incident_service.api.persisted import build_manifest, dump_manifest

    sys.stdout.write(dump_manifest(build_manifest(folder)))
    return 0


def _export_schema() -> int:
    from incident_service.api.schema import build_schema

    sys.stdout.write(build_schema().as_str().rstrip() + "\n")
    return 0


@contextmanager
def _database(settings: Settings) -> Iterator[str]:
    """The URI to use: MONGODB_URI once it answers, else the embedded database, started here
    and stopped on the way out. Raises EmbeddedError or DatabaseUnavailable."""
    from incident_service.embedded import EmbeddedMongo
    from incident_service.store.database import check_reachable

    if settings.mongodb_uri:
        check_reachable(settings.mongodb_uri)
        yield settings.mongodb_uri
        return
    embedded = EmbeddedMongo(settings.data_dir)
    embedded.start(settings.embedded_start_timeout)
    try:
        yield embedded.uri
    finally:
        embedded.stop()


def _serve(host: str | None, port: int | None) -> int:
    from incident_service import server
    from incident_service.app import create_app
    from incident_service.embedded import EmbeddedError
    from incident_service.observability import logs
    from incident_service.store.database import DatabaseUnavailable

    settings = load_settings()
    logs.configure(settings.log_level, settings.log_format_effective)
    host, port = host or settings.host, port or settings.port
    try:
        with _database(settings) as uri:
            if not settings.mongodb_uri:
                _say(f"embedded database on {uri}, data in {settings.data_dir}")
            key_file = _bootstrap_admin_key(settings)
            app = create_app(settings, uri)
            # Drains on SIGTERM: readyz 503, websockets closed with 1001 (server.py).
            server.run(
                app,
                banner=(
                    _banner(settings, host, port, key_file)
                    if settings.log_format_effective == "text"
                    else None
                ),
                host=host,
                port=port,
                ws_ping_interval=settings.ws_ping_interval,
                ws_ping_timeout=settings.ws_ping_interval,
                # A websocket frame is bounded like an HTTP body.
                ws_max_size=settings.max_body_bytes,
                ws_per_message_deflate=settings.ws_per_message_deflate,
                timeout_graceful_shutdown=int(settings.shutdown_grace_seconds) or None,
                log_level=settings.log_level.lower(),
                log_config=None,  # keep the handler of observability/logs.py
                proxy_headers=True,
            )
    except (EmbeddedError, DatabaseUnavailable) as exc:
        _say(str(exc))
        return 1
    return 0


def _banner(settings: Settings, host: str, port: int, key_file: Path | None) -> str:
    """What a newcomer opens first, printed once the server listens.

    Only with text logs (a terminal): JSON logs go to a collector, where it
    would be one more line that does not parse."""
    base = f"http://{host}:{port}"
    key = f"$(cat {key_file})" if key_file else "$ADMIN_API_KEY"
    lines = [f"incident-service is up on {base}"]
    if settings.graphiql_enabled:
        lines.append(f"  GraphiQL     {base}/graphql")
    lines += [
        f"  status page  {base}/status",
        f"  admin key    {key_file if key_file else 'the ADMIN_API_KEY you set'}",
        f"  try          curl -s {base}/graphql -H 'content-type: application/json' "
        f'-H "Authorization: Bearer {key}" -d \'{{"query":"{{ me {{ name role }} }}"}}\'',
    ]
    return "\n".join(lines)


def _bootstrap_admin_key(settings: Settings) -> Path | None:
    """In development with no ADMIN_API_KEY, make one once and keep it in the data folder.

    Returns the file holding it, or None when ADMIN_API_KEY (or production) decides.
    """
    from incident_service.domain.apikeys import mint_secret

    if settings.admin_api_key or settings.is_production:
        return None
    path = Path(settings.data_dir) / "admin-api-key"
    if path.exists():
        settings.admin_api_key = path.read_text().strip()
        _say(f"admin API key is in {path}")
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    key = mint_secret()
    path.write_text(key + "\n")
    path.chmod(0o600)
    settings.admin_api_key = key
    _say(
        f"generated an admin API key (kept in {path}; shown only now):\n"
        f"    {key}\n"
        f"  use it as:  Authorization: Bearer {key}"
    )
    return path


def _create_api_key(settings: Settings, name: str, role_name: str) -> int:
    """Mint a key straight into the configured database.

    With the embedded default it starts the embedded database on DATA_DIR
    itself; the embedded database allows one process per data folder, so
    while `make run` holds it this fails with a clear message.
    """
    from pymongo.errors import PyMongoError

    from incident_service.domain.errors import DomainError
    from incident_service.embedded import EmbeddedError
    from incident_service.store.database import DatabaseUnavailable

    role = Role[role_name]
    try:
        with _database(settings) as uri:
            secret = asyncio.run(_insert_key(uri, settings, name, role))
    except EmbeddedError:
        _say(
            f"cannot open the embedded database in {settings.data_dir}: is the server "
            "running? Stop it, or create the key with the createApiKey mutation "
            "(docs/access-control.md)"
        )
        return 1
    except DatabaseUnavailable as exc:
        _say(str(exc))
        return 1
    except DomainError as exc:
        _say(f"--{exc.field[-1] if exc.field else 'input'}: {exc.message}")
        return 2
    except PyMongoError as exc:
        _say(f"database error: {exc}")
        return 1
    _say(
        f"created API key {name!r} with role {role.name}; "
        "it is shown only now. Use it as: Authorization: Bearer <key>"
    )
    print(secret)
    return 0


def _restore_templates(settings: Settings) -> int:
    """Put the built-in playbooks back as shipped, in the configured database."""
    from pymongo.errors import PyMongoError

    from incident_service.embedded import EmbeddedError
    from incident_service.store.database import DatabaseUnavailable

    try:
        with _database(settings) as uri:
            restored = asyncio.run(_restore(uri, settings))
    except EmbeddedError:
        _say(
            f"cannot open the embedded database in {settings.data_dir}: is the server "
            "running? Stop it first"
        )
        return 1
    except (DatabaseUnavailable, PyMongoError) as exc:
        _say(f"database error: {exc}")
        return 1
    if restored:
        _say("restored: " + ", ".join(restored))
    else:
        _say("every built-in template is already as shipped")
    return 0


async def _restore(uri: str, settings: Settings) -> list[str]:
    from incident_service import clock
    from incident_service.store.database import Database
    from incident_service.store.templates import TemplateStore

    database = Database(uri, settings.mongodb_database)
    try:
        await database.ensure_indexes()
        return await TemplateStore(database).restore(clock.now())
    finally:
        await database.close()


async def _insert_key(uri: str, settings: Settings, name: str, role: Role) -> str:
    from incident_service import clock
    from incident_service.store.apikeys import ApiKeyStore
    from incident_service.store.database import Database

    database = Database(uri, settings.mongodb_database)
    try:
        store = ApiKeyStore(database)
        await store.ensure_indexes()
        _, secret = await store.create(name, role, now=clock.now(), actor="cli")
        return secret
    finally:
        await database.close()


if __name__ == "__main__":
    sys.exit(main())
