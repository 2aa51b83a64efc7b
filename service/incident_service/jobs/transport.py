"""Outbound HTTP for webhooks that cannot be turned against the network it runs in.

A webhook URL is chosen by whoever configures it, and the service runs
inside a cluster: without care, a URL could make it call the cloud
metadata endpoint, a database admin port or a sidecar. The guard sits in
the connection itself: aiohttp resolves the host with our resolver, which
refuses a name when any address it resolves to is forbidden, and opens
every socket through our factory, which checks the very address about to
be connected to (an IP literal in the URL never reaches a resolver). A
name that resolved to a public address when the endpoint was saved and to
127.0.0.1 now (DNS rebinding) is refused at the moment of sending. TLS
still verifies the certificate for the host name. No redirects are
followed, no proxy settings are read from the environment and no cookies
are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from aiohappyeyeballs import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult
from cachetools import LRUCache

from incident_service.domain.webhooks import forbidden_address

log = logging.getLogger(__name__)

#: Bytes of a receiver's answer that are read at most (the rest is dropped unread).
MAX_RESPONSE_BYTES = 4096
USER_AGENT = "incident-service-webhooks/1"


class ForbiddenTarget(OSError):
    """The URL's host resolves to an address webhooks may not reach."""


async def _resolve(host: str, port: int | None, timeout: float | None) -> list[str]:
    """The addresses a host name resolves to, each once; raises _Unresolvable."""
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout
        )
    except (OSError, TimeoutError, UnicodeError, ValueError) as exc:
        raise _Unresolvable(str(exc)) from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _first_forbidden(addresses: list[str]) -> str | None:
    """The first address webhooks may not reach (scope ids like `%eth0` ignored)."""
    for address in addresses:
        if forbidden_address(ipaddress.ip_address(address.split("%")[0])):
            return address
    return None


class _Unresolvable(Exception):
    pass


class _GuardedResolver(AbstractResolver):
    """aiohttp's own resolver, refusing a name when any of its addresses is forbidden
    (the clear `refused` error; the socket factory below is what enforces it)."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        forbidden = None if self._allow_private else _first_forbidden([r["host"] for r in results])
        if forbidden is not None:
            raise ForbiddenTarget(f"{host} resolves to {forbidden}, a private or local address")
        return results

    async def close(self) -> None:
        await self._inner.close()


def _guarded_socket(allow_private: bool) -> Callable[[AddrInfoType], socket.socket]:
    """Every socket a webhook opens: refused before connecting to a forbidden address."""

    def open_socket(addr_info: AddrInfoType) -> socket.socket:
        family, kind, proto, _, address = addr_info
        if not allow_private and forbidden_address(ipaddress.ip_address(address[0])):
            raise ForbiddenTarget(f"{address[0]} is a private or local address")
        return socket.socket(family=family, type=kind, proto=proto)

    return open_socket


async def refused_reason(url: str, allow_private: bool, timeout: float = 5.0) -> str | None:
    """Why a webhook URL cannot be used now (its host does not resolve, or resolves to a
    forbidden address); None when it can. Checked when an endpoint is saved, for a clear
    answer then; the connection is checked again at every delivery."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = await _resolve(host, None, timeout)
    except _Unresolvable:
        return f"url host {host!r} does not resolve"
    forbidden = None if allow_private else _first_forbidden(addresses)
    if forbidden is not None:
        return f"url host {host!r} resolves to {forbidden}, a private or local address"
    return None


@dataclass(frozen=True)
class Response:
    status_code: int | None
    latency_ms: int
    retry_after: str | None = None
    #: Why there was no usable answer (timeout, refused, forbidden target).
    error: str | None = None


class _Sessions(LRUCache[str, aiohttp.ClientSession]):
    """A session (its own connections) per endpoint, the least recently used closed past
    `maxsize`: at once when idle, else when its last request in flight ends (closing it
    earlier would fail that request)."""

    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize)
        self._in_flight: Counter[aiohttp.ClientSession] = Counter()
        self._evicted_busy: set[aiohttp.ClientSession] = set()
        self._closing: set[asyncio.Task[None]] = set()

    def popitem(self) -> tuple[str, aiohttp.ClientSession]:
        key, session = super().popitem()
        if self._in_flight[session]:
            self._evicted_busy.add(session)
        else:
            self._close_soon(session)
        return key, session

    @contextlib.contextmanager
    def using(self, session: aiohttp.ClientSession) -> Iterator[aiohttp.ClientSession]:
        """Mark a request in flight over `session` for as long as it lasts."""
        self._in_flight[session] += 1
        try:
            yield session
        finally:
            self._in_flight[session] -= 1
            if not self._in_flight[session]:
                del self._in_flight[session]
                if session in self._evicted_busy:
                    self._evicted_busy.discard(session)
                    self._close_soon(session)

    def _close_soon(self, session: aiohttp.ClientSession) -> None:
        task = asyncio.get_running_loop().create_task(session.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        sessions = [*self.values(), *self._evicted_busy]
        self.clear()
        self._evicted_busy.clear()
        await asyncio.gather(*(s.close() for s in sessions), *self._closing)


class WebhookClient:
    """Connections per endpoint; each POST is bounded in time and in what it reads.

    A session per endpoint, not one for all: a receiver that hangs holds only
    its own endpoint's connections, never those the others need."""

    def __init__(
        self, *, allow_private: bool, timeout: float, per_endpoint: int = 8, endpoints: int = 1024
    ) -> None:
        self._timeout = timeout
        self._allow_private = allow_private
        self._resolver: _GuardedResolver | None = None
        self._per_endpoint = per_endpoint
        self._sessions = _Sessions(endpoints)

    def _session(self, endpoint: str) -> aiohttp.ClientSession:
        session = self._sessions.get(endpoint)
        if session is None:
            if self._resolver is None:
                # Made here, not in __init__: aiohttp's resolver binds to the running loop.
                self._resolver = _GuardedResolver(self._allow_private)
            connector = aiohttp.TCPConnector(
                limit=self._per_endpoint,
                # Resolved at every new connection, so the check sees today's answer.
                use_dns_cache=False,
                resolver=self._resolver,
                socket_factory=_guarded_socket(self._allow_private),
                keepalive_timeout=30.0,
            )
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent"),
                trust_env=False,
                # The connection buffers little ahead of what is read: a 100 MB
                # answer costs one socket read, then the connection is closed.
                read_bufsize=MAX_RESPONSE_BYTES,
            )
            self._sessions[endpoint] = session
        return session

    async def post(
        self, url: str, headers: dict[str, str], body: bytes, *, endpoint: str
    ) -> Response:
        """POST `body` to `url` over `endpoint`'s connections."""
        started = time.perf_counter()
        try:
            with self._sessions.using(self._session(endpoint)) as session:
                status, retry_after = await self._send(session, url, headers, body)
        except TimeoutError:
            return Response(None, _ms(started), error=f"no answer within {self._timeout:g}s")
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, ForbiddenTarget):
                return Response(None, _ms(started), error=f"refused: {exc.os_error}")
            reason = exc.os_error.strerror or str(exc.os_error) or type(exc.os_error).__name__
            return Response(None, _ms(started), error=f"cannot connect: {reason}"[:300])
        except aiohttp.ClientError as exc:
            return Response(None, _ms(started), error=f"{type(exc).__name__}: {exc}"[:300])
        except Exception as exc:
            # Whatever else a URL or a receiver can provoke is a failed attempt on the
            # record, never a handler crash that would resend without recording.
            log.warning("webhook to %s failed unexpectedly", url, exc_info=True)
            return Response(None, _ms(started), error=f"{type(exc).__name__}: {exc}"[:300])
        return Response(status, _ms(started), retry_after)

    async def _send(
        self, session: aiohttp.ClientSession, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, str | None]:
        request_headers = {"content-type": "application/json", "user-agent": USER_AGENT, **headers}
        async with session.post(
            url, data=body, headers=request_headers, allow_redirects=False
        ) as response:
            # Read a little of the answer, never all of it: a receiver that answers
            # 100 MB costs 4 KB (and its connection, which is closed, not reused).
            await response.content.read(MAX_RESPONSE_BYTES)
            return response.status, response.headers.get("retry-after")

    async def close(self) -> None:
        await self._sessions.aclose()
        if self._resolver is not None:
            await self._resolver.close()


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
