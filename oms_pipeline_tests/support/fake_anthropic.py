"""A local stand-in for the Anthropic Messages API (``POST /v1/messages``) over real HTTP.

It records every request (headers and raw body) so tests can check what would have left the
process, and answers from a script (``queue``: status, body, headers) or, when the script is empty,
with a ``tool_use`` block built by ``default_tool_input`` from the (masked) note it received.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

FAKE_KEY = "sk-ant-test-not-a-real-key"


@dataclass
class Recorded:
    """One request as the server saw it."""

    headers: dict[str, str]
    raw: str
    body: dict

    @property
    def note(self) -> str:
        """The user message text (the prompt with the masked note)."""
        content = self.body["messages"][0]["content"]
        return content if isinstance(content, str) else json.dumps(content)


def default_tool_input(prompt: str) -> dict:
    """A plausible answer: a few keyword tags, the note echoed as instructions, a quoted gift message."""
    note = prompt.split("<note>", 1)[-1].split("</note>", 1)[0].strip()
    tags = []
    if re.search(r"gift|geschenk", note, re.I):
        tags.append("gift")
    if re.search(r"leave|gate|door|abstellen", note, re.I):
        tags.append("delivery_instructions")
    if re.search(r"cancel|storn", note, re.I) and not re.search(r"don'?t cancel", note, re.I):
        tags.append("cancel_request")
    quoted = re.search(r"\"([^\"]+)\"", note)
    return {
        "tags": tags,
        "deliver_by": None,
        "hold_until": None,
        "gift_message": quoted.group(1) if quoted else None,
        "instructions": note if "delivery_instructions" in tags else None,
        "confidence": 0.9,
    }


def tool_use_message(tool_input: Any, *, model: str = "claude-sonnet-4-5", name: str = "record_note_parse",
                     input_tokens: int = 321, output_tokens: int = 54) -> dict:
    """A Messages API response whose only content block is a ``tool_use``."""
    return {
        "id": "msg_fake_0001",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "tool_use", "id": "toolu_fake_01", "name": name, "input": tool_input}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def error_body(kind: str, message: str) -> dict:
    """The Messages API error envelope."""
    return {"type": "error", "error": {"type": kind, "message": message}}


RATE_LIMITED = (429, error_body("rate_limit_error", "Number of requests has exceeded your rate limit"),
                {"retry-after-ms": "10"})
OVERLOADED = (529, error_body("overloaded_error", "Overloaded"), {"retry-after-ms": "10"})


@dataclass
class FakeAnthropic:
    """``with FakeAnthropic() as api: api.url``; ``api.queue.append((status, body, headers))``."""

    responder: Callable[[dict], dict] | None = None
    queue: list[tuple[int, dict, dict]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app = Starlette(routes=[Route("/v1/messages", self._messages, methods=["POST"])])
        self._lock = threading.Lock()
        self.port = 0

    @property
    def url(self) -> str:
        """Base URL for the SDK (``base_url`` or ``ANTHROPIC_BASE_URL``)."""
        return f"http://127.0.0.1:{self.port}"

    async def _messages(self, request: Request) -> JSONResponse:
        raw = (await request.body()).decode("utf-8")
        body = json.loads(raw)
        with self._lock:
            self.requests.append(Recorded(dict(request.headers), raw, body))
            scripted = self.queue.pop(0) if self.queue else None
        if scripted is not None:
            status, payload, headers = scripted
            return JSONResponse(payload, status_code=status, headers=headers)
        prompt = Recorded(dict(request.headers), raw, body).note
        answer = self.responder(body) if self.responder else tool_use_message(default_tool_input(prompt),
                                                                              model=body.get("model", ""))
        return JSONResponse(answer)

    def __enter__(self) -> FakeAnthropic:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        self._socket = sock
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True,
                                        name=f"fake-anthropic:{self.port}")
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake Anthropic server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
