"""The ASGI edge in front of every route: request id, body size, request metrics, health."""
