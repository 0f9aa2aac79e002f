"""A request-body size limit as plain ASGI middleware (no FastAPI import: it wraps any ASGI app).

A body larger than the limit gets ``413`` with a JSON ``{"detail": ...}``: at once when ``Content-Length``
says so, otherwise (chunked uploads) as soon as the bytes read pass the limit -- the rest is never read and
whatever the app would have answered is replaced by the 413.
"""
import json
from typing import Any, Awaitable, Callable, Dict

Message = Dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyTooLarge(Exception):
    """Raised from ``receive`` when the body passes the limit."""


class BodySizeLimit:
    """Answer 413 to HTTP requests whose body is larger than ``max_bytes``."""

    def __init__(self, app: Callable, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = int(max_bytes)

    def message(self) -> str:
        return f"request body too large: the limit is {self.max_bytes} bytes (server setting max_body_bytes)"

    async def reply_413(self, send: Send) -> None:
        body = json.dumps({"detail": self.message()}).encode("utf8")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self.reply_413(send)
            return
        state = {"read": 0, "over": False, "started": False}

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if state["read"] > self.max_bytes:
                    state["over"] = True
                    raise BodyTooLarge(self.message())
            return message

        async def guarded_send(message: Message) -> None:
            if state["over"]:  # the app answered an error about the interrupted body: answer 413 instead
                if message["type"] == "http.response.start" and not state["started"]:
                    state["started"] = True
                    await self.reply_413(send)
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            if not state["started"]:
                state["started"] = True
                await self.reply_413(send)
