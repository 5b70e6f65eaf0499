"""python-telegram-bot's HTTP transport, on aiohttp instead of httpx.

python-telegram-bot stays the Bot API client: it builds every request, decodes every
answer and raises its own errors (``RetryAfter``, ``Forbidden``, ...), which
``bot.telegram.client`` maps to what the sender does next. Only the bytes on the wire go
through aiohttp, through the ``BaseRequest`` extension point PTB documents for this.

Why: the line sends one request per message, and the benchmark showed about half of the
process's CPU spent in httpx and httpcore at 200 messages a second. aiohttp, which the
line already uses for its web server, parses HTTP in C and keeps a simpler connection
pool; with it the same load costs markedly less (see ``docs/performance.md``).

Bodies go form-encoded, byte for byte what PTB's own httpx transport sends, and as
multipart when a request uploads a file.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_FORM = {"Content-Type": "application/x-www-form-urlencoded",
         "User-Agent": BaseRequest.USER_AGENT}
_PLAIN = {"User-Agent": BaseRequest.USER_AGENT}


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a bounded connection pool, created on ``initialize``."""

    __slots__ = ("_connect", "_on_answer", "_pool", "_pool_size", "_read", "_session",
                 "_write")

    def __init__(self, *, connection_pool_size: int = 16, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0,
                 on_answer: Callable[[str, int], None] | None = None) -> None:
        """``on_answer(method, status)`` hears every HTTP answer (never the URL, which
        carries the token): how the line knows when Telegram last answered, and a 401."""
        self._on_answer = on_answer
        self._pool_size = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Not trust_env: aiohttp would then read ~/.netrc in a thread for every
            # request. Proxies from the environment are honoured by ``_proxy_for``.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size))

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = self._read if read_timeout is BaseRequest.DEFAULT_NONE else read_timeout
        write = self._write if write_timeout is BaseRequest.DEFAULT_NONE else write_timeout
        conn = self._connect if connect_timeout is BaseRequest.DEFAULT_NONE else connect_timeout
        pool = self._pool if pool_timeout is BaseRequest.DEFAULT_NONE else pool_timeout
        # aiohttp has no separate write timeout: the whole request is bounded by the sum.
        parts = [t for t in (read, write, conn, pool) if t is not None]
        timeout = aiohttp.ClientTimeout(
            total=sum(parts) if len(parts) == 4 else None,
            connect=(conn or 0) + (pool or 0) if conn is not None and pool is not None else None,
            sock_connect=conn,
            sock_read=read,
        )
        kwargs: dict[str, Any] = {"timeout": timeout, "proxy": _proxy_for(url)}
        if request_data is not None and request_data.contains_files:
            kwargs["data"] = _multipart(request_data)
            kwargs["headers"] = _PLAIN
        elif request_data is not None:
            kwargs["data"] = request_data.url_encoded_parameters().encode()
            kwargs["headers"] = _FORM
        else:
            kwargs["headers"] = _PLAIN
        try:
            async with session.request(method, url, **kwargs) as res:
                body = await res.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
        if self._on_answer is not None:
            self._on_answer(url.rsplit("/", 1)[-1], res.status)
        return res.status, body


@cache
def _host_proxy(scheme: str, host: str) -> str | None:
    if urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies().get(scheme)


def _proxy_for(url: str) -> str | None:
    """HTTP(S)_PROXY and NO_PROXY, as httpx honoured them, read once per host."""
    parts = urlsplit(url)
    return _host_proxy(parts.scheme, parts.hostname or "")


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    """Parameters as form fields (strings as-is, the rest JSON), files as file parts."""
    form = aiohttp.FormData()
    for key, value in request_data.json_parameters.items():
        form.add_field(key, value)
    for key, upload in request_data.multipart_data.items():
        filename, content, mimetype = _file_part(upload)
        form.add_field(key, content, filename=filename, content_type=mimetype)
    return form


def _file_part(upload: Any) -> tuple[str | None, Any, str | None]:
    """PTB gives a file as ``content`` or ``(filename, content[, mimetype])``."""
    if isinstance(upload, tuple):
        filename = upload[0]
        content = upload[1]
        mimetype = upload[2] if len(upload) > 2 else None
        return filename, content, mimetype
    return None, upload, None

