"""Outbound HTTP for webhooks that cannot be turned against the network it runs in.

A webhook URL is chosen by whoever configures it, and the service runs
inside a cluster: without care, a URL could make it call the cloud
metadata endpoint, a database admin port or a sidecar. The guard sits in
the connection itself (an httpcore network backend): the host is resolved
once, every address it resolves to is checked, and the connection goes to
the checked address. A name that resolved to a public address when the
endpoint was saved and to 127.0.0.1 now (DNS rebinding) is refused at the
moment of sending. TLS still verifies the certificate for the host name.
No redirects are followed (httpcore never follows them) and no proxy
settings are read from the environment.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import select
import socket
import ssl
import time
import typing
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
from cachetools import LRUCache

from incident_service.domain.webhooks import forbidden_address

log = logging.getLogger(__name__)

#: Bytes of a receiver's answer that are read at most (the rest is dropped unread).
MAX_RESPONSE_BYTES = 4096
USER_AGENT = "incident-service-webhooks/1"


class ForbiddenTarget(httpcore.ConnectError):
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


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await _resolve(host, port, timeout)
        except _Unresolvable as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        forbidden = None if self._allow_private else _first_forbidden(addresses)
        if forbidden is not None:
            raise ForbiddenTarget(f"{host} resolves to {forbidden}, a private or local address")
        error: Exception = httpcore.ConnectError(f"{host} resolves to no address")
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
            else:
                return _Stream(stream, stream.get_extra_info("socket"))
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise ForbiddenTarget("webhooks are never sent to a unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


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


class _Stream(httpcore.AsyncNetworkStream):
    """A connection that answers the pool's "did the server close it?" from its socket.

    The pool asks that of every idle connection on every request; through
    anyio's attribute lookup each answer cost more than sending the request."""

    def __init__(self, inner: httpcore.AsyncNetworkStream, sock: socket.socket | None) -> None:
        self._inner = inner
        self._socket = sock

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        inner = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        return _Stream(inner, self._socket)

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable" and self._socket is not None:
            return _readable(self._socket)
        return self._inner.get_extra_info(info)


def _readable(sock: socket.socket) -> bool:
    """Readable while idle: the server closed the connection (or sent what it should not)."""
    if sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


@dataclass(frozen=True)
class Response:
    status_code: int | None
    latency_ms: int
    retry_after: str | None = None
    #: Why there was no usable answer (timeout, refused, forbidden target).
    error: str | None = None


class _Pools(LRUCache[str, httpcore.AsyncConnectionPool]):
    """A connection pool per endpoint, the least recently used closed past `maxsize`."""

    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize)
        self._closing: set[asyncio.Task[None]] = set()

    def popitem(self) -> tuple[str, httpcore.AsyncConnectionPool]:
        key, pool = super().popitem()
        task = asyncio.get_running_loop().create_task(pool.aclose())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        return key, pool

    async def aclose(self) -> None:
        pools = list(self.values())
        self.clear()
        await asyncio.gather(*(p.aclose() for p in pools), *self._closing)


class WebhookClient:
    """Connection pools per endpoint; each POST is bounded in time and in what it reads.

    One pool per endpoint, not one for all: the pool looks at each of its idle
    connections on every request, so one shared pool cost more per request
    the more endpoints there were (and an endpoint's slow receiver could hold
    connections the others need)."""

    def __init__(
        self, *, allow_private: bool, timeout: float, per_endpoint: int = 8, endpoints: int = 1024
    ) -> None:
        self._timeout = timeout
        self._backend = GuardedBackend(allow_private)
        self._per_endpoint = per_endpoint
        self._pools = _Pools(endpoints)

    def _pool(self, endpoint: str) -> httpcore.AsyncConnectionPool:
        pool = self._pools.get(endpoint)
        if pool is None:
            pool = httpcore.AsyncConnectionPool(
                network_backend=self._backend,
                max_connections=self._per_endpoint,
                max_keepalive_connections=self._per_endpoint,
                keepalive_expiry=30.0,
            )
            self._pools[endpoint] = pool
        return pool

    async def post(
        self, url: str, headers: dict[str, str], body: bytes, *, endpoint: str
    ) -> Response:
        """POST `body` to `url` over `endpoint`'s connections."""
        started = time.perf_counter()
        try:
            status, retry_after = await asyncio.wait_for(
                self._send(self._pool(endpoint), url, headers, body), self._timeout
            )
        except TimeoutError:
            return Response(None, _ms(started), error=f"no answer within {self._timeout:g}s")
        except ForbiddenTarget as exc:
            return Response(None, _ms(started), error=f"refused: {exc}")
        except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
            return Response(
                None, _ms(started), error=f"cannot connect: {exc or type(exc).__name__}"
            )
        except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError) as exc:
            return Response(None, _ms(started), error=f"{type(exc).__name__}: {exc}"[:300])
        except Exception as exc:
            # Whatever else a URL or a receiver can provoke is a failed attempt on the
            # record, never a handler crash that would resend without recording.
            log.warning("webhook to %s failed unexpectedly", url, exc_info=True)
            return Response(None, _ms(started), error=f"{type(exc).__name__}: {exc}"[:300])
        return Response(status, _ms(started), retry_after)

    async def _send(
        self, pool: httpcore.AsyncConnectionPool, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, str | None]:
        request_headers = [
            ("content-type", "application/json"),
            ("user-agent", USER_AGENT),
            *headers.items(),
        ]
        timeouts = {"connect": self._timeout, "read": self._timeout, "write": self._timeout,
                    "pool": self._timeout}  # fmt: skip
        async with pool.stream(
            "POST", url, headers=request_headers, content=body, extensions={"timeout": timeouts}
        ) as response:
            read = 0
            # Drain a little of the answer (so the connection can be reused), never all
            # of it: a receiver that answers 100 MB costs 4 KB.
            async for chunk in response.aiter_stream():
                read += len(chunk)
                if read >= MAX_RESPONSE_BYTES:
                    break
            retry_after = None
            for name, value in response.headers:
                if name.lower() == b"retry-after":
                    retry_after = value.decode("latin-1")
            return response.status, retry_after

    async def close(self) -> None:
        await self._pools.aclose()


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
