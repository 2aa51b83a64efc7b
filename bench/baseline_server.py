"""The fan-out baseline: the least a Starlette websocket server can do per event.

It speaks just enough graphql-transport-ws for the benchmark's clients
(connection_init -> connection_ack, subscribe -> one `next` with the initial
state) and keeps every subscribed socket in a set. `POST /trigger` takes an
already-encoded frame as its body and sends that same text to every socket:
no GraphQL execution, no per-subscriber encoding, no database. The service's
fan-out is measured against this, under the same uvicorn, on the same machine.

    uvicorn bench.baseline_server:app --port 9000
"""

from __future__ import annotations

import asyncio
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

subscribers: set[WebSocket] = set()
state = {"initial": ""}


async def graphql_ws(websocket: WebSocket) -> None:
    await websocket.accept(subprotocol="graphql-transport-ws")
    try:
        while True:
            message = json.loads(await websocket.receive_text())
            kind = message.get("type")
            if kind == "connection_init":
                await websocket.send_text('{"type":"connection_ack"}')
            elif kind == "ping":
                await websocket.send_text('{"type":"pong"}')
            elif kind == "subscribe":
                await websocket.send_text(state["initial"].replace("%ID%", message["id"]))
                subscribers.add(websocket)
    except WebSocketDisconnect:
        pass
    finally:
        subscribers.discard(websocket)


async def _send_all(frame: str) -> None:
    async def send(ws: WebSocket) -> None:
        try:
            await ws.send_text(frame)
        except Exception:
            subscribers.discard(ws)

    await asyncio.gather(*(send(ws) for ws in list(subscribers)))


async def set_initial(request: Request) -> JSONResponse:
    """The first `next` a subscriber receives; `%ID%` stands for its subscription id."""
    state["initial"] = (await request.body()).decode()
    return JSONResponse({"ok": True})


async def trigger(request: Request) -> JSONResponse:
    """Send the request body, as is, to every subscriber; answer before the sends finish."""
    frame = (await request.body()).decode()
    count = len(subscribers)
    asyncio.get_running_loop().create_task(_send_all(frame))
    return JSONResponse({"subscribers": count})


async def stats(request: Request) -> JSONResponse:
    return JSONResponse({"subscribers": len(subscribers)})


app = Starlette(
    routes=[
        WebSocketRoute("/graphql", graphql_ws),
        Route("/initial", set_initial, methods=["POST"]),
        Route("/trigger", trigger, methods=["POST"]),
        Route("/stats", stats, methods=["GET"]),
    ]
)
