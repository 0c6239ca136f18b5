"""Opening ClickHouse: an ``http(s)://`` server or the embedded chDB engine.

Both go through clickhouse-connect and give the same client API. chDB opens
one data path per process, so clients are kept per URL and reused.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from worker.errors import ConfigError, SourceError

logger = logging.getLogger(__name__)

_clients: dict[tuple, Client] = {}


def normalise_url(url: str) -> str:
    """Return ``url`` with a chDB path made absolute; reject other schemes."""
    scheme = urlsplit(url).scheme
    if scheme in ("http", "https"):
        return url
    if scheme == "chdb":
        path = url[len("chdb:") :].removeprefix("//")
        return "chdb://" + os.path.abspath(path or ".")
    raise ConfigError(
        f"The ClickHouse url {url!r} is neither http(s):// nor chdb:///path; "
        "give a server URL or an embedded data folder."
    )


def is_embedded(url: str) -> bool:
    """True when ``url`` names the embedded chDB engine."""
    return url.startswith("chdb:")


def connect(
    url: str,
    username: str | None = None,
    password: str | None = None,
) -> Client:
    """Return a client for ``url``, reusing one already open in this process."""
    url = normalise_url(url)
    key = (url, username)
    client = _clients.get(key)
    if client is not None:
        return client

    logger.debug("opening ClickHouse at %s", safe_url(url))
    try:
        if is_embedded(url):
            os.makedirs(url[len("chdb://") :], exist_ok=True)
            client = clickhouse_connect.get_client(dsn=url)
        else:
            client = clickhouse_connect.get_client(
                dsn=url,
                username=username or "default",
                password=password or "",
                connect_timeout=10,
            )
    except (ClickHouseError, OSError) as error:
        hint = (
            "Only one process at a time can open a chDB data folder; stop the "
            "other process or give this one its own folder."
            if is_embedded(url)
            else "Check the url, the credentials and that the server is reachable."
        )
        raise SourceError(
            f"ClickHouse at {safe_url(url)} could not be opened: {_first_line(error)} {hint}"
        ) from error

    _clients[key] = client
    return client


def release(url: str) -> None:
    """Close every client of ``url`` so that another process may open it."""
    url = normalise_url(url)
    for key in [k for k in _clients if k[0] == url]:
        _clients.pop(key).close()


def safe_url(url: str) -> str:
    """``url`` without any user information, fit for a log line."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return parts._replace(netloc=host).geturl()


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
