"""Airbyte protocol helpers shared by both connectors.

Messages other than records are built as CDK models and serialized with the
CDK's own serializer, so they are exactly what Airbyte tooling expects.
Errors become TRACE messages and the documented exit code.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from collections.abc import Iterator

import orjson
from airbyte_cdk.models import (
    AirbyteErrorTraceMessage,
    AirbyteLogMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    AirbyteStreamStatus,
    AirbyteStreamStatusTraceMessage,
    AirbyteTraceMessage,
    FailureType,
    Level,
    StreamDescriptor,
    TraceType,
    Type,
)
from airbyte_cdk.models.airbyte_protocol import AirbyteStateBlob

from worker.errors import WorkerError

logger = logging.getLogger(__name__)


def dumps(message: AirbyteMessage) -> bytes:
    """One protocol line (without the newline) for ``message``."""
    return orjson.dumps(AirbyteMessageSerializer.dump(message))


def loads(line: bytes | str) -> AirbyteMessage:
    """Parse one protocol line with the CDK's own deserializer."""
    return AirbyteMessageSerializer.load(orjson.loads(line))


def line_chunks(read, size: int = 4 << 20) -> Iterator[bytes]:
    """Chunks of whole lines from a ``read(n)`` byte source.

    Every chunk ends with a newline; a last line without one gets one.
    """
    tail = b""
    while True:
        chunk = read(size)
        if not chunk:
            break
        chunk = tail + chunk if tail else chunk
        cut = chunk.rfind(b"\n") + 1
        tail = chunk[cut:]
        if cut:
            yield chunk[:cut]
    if tail:
        yield tail + b"\n"


def log(text: str, level: Level = Level.INFO) -> AirbyteMessage:
    """A LOG message."""
    return AirbyteMessage(
        type=Type.LOG, log=AirbyteLogMessage(level=level, message=text)
    )


def stream_state(name: str, namespace: str | None, state: dict) -> AirbyteMessage:
    """A per-stream STATE message."""
    return AirbyteMessage(
        type=Type.STATE,
        state=AirbyteStateMessage(
            type=AirbyteStateType.STREAM,
            stream=AirbyteStreamState(
                stream_descriptor=StreamDescriptor(name=name, namespace=namespace),
                stream_state=AirbyteStateBlob(**state),
            ),
        ),
    )


def stream_status(name: str, namespace: str | None, status: str) -> AirbyteMessage:
    """A TRACE STREAM_STATUS message (``STARTED``, ``COMPLETE``, ...)."""
    return AirbyteMessage(
        type=Type.TRACE,
        trace=AirbyteTraceMessage(
            type=TraceType.STREAM_STATUS,
            emitted_at=time.time() * 1000,
            stream_status=AirbyteStreamStatusTraceMessage(
                stream_descriptor=StreamDescriptor(name=name, namespace=namespace),
                status=AirbyteStreamStatus(status),
            ),
        ),
    )


def error_trace(error: BaseException) -> AirbyteMessage:
    """A TRACE ERROR message for ``error``, classed as config or system error."""
    config = isinstance(error, WorkerError) and error.failure_class == "F1"
    return AirbyteMessage(
        type=Type.TRACE,
        trace=AirbyteTraceMessage(
            type=TraceType.ERROR,
            emitted_at=time.time() * 1000,
            error=AirbyteErrorTraceMessage(
                message=str(error),
                internal_message=type(error).__name__,
                stack_trace="".join(traceback.format_exception_only(error)),
                failure_type=FailureType.config_error
                if config
                else FailureType.system_error,
            ),
        ),
    )


def fail(error: BaseException, out=None) -> int:
    """Report ``error`` as a TRACE line and on stderr; return its exit code."""
    out = out or sys.stdout.buffer
    out.write(dumps(error_trace(error)) + b"\n")
    out.flush()
    label = getattr(error, "failure_class", None)
    print(f"{label + ' ' if label else ''}{error}", file=sys.stderr)
    return getattr(error, "exit_code", 1)
