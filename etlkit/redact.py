"""Masking of secret values in everything the dispatcher writes.

One :class:`Masker` is built from the values a credential profile resolved to.
It replaces each value with ``***`` in text, bytes, JSON-like structures and
files, together with the encodings a value is commonly printed in:
URL-encoding, base64 (standard and URL-safe, padded or not, and at each of the
three byte alignments inside a longer base64 text), hex and JSON escaping.

Streams go through a :class:`StreamMasker`, which holds back the last bytes of
each chunk so that a value split across two chunks is still caught.
:func:`redact_config` adds key-based redaction of structured config on top.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, quote_plus

logger = logging.getLogger(__name__)

MASK = "***"
MASK_BYTES = MASK.encode()
CHUNK_SIZE = 64 * 1024

# A base64 fragment shorter than this matches too much unrelated text.
MIN_FRAGMENT_LENGTH = 6


def secret_forms(secret: str) -> set[bytes]:
    """Return the byte strings under which ``secret`` may appear in output."""
    if not secret:
        return set()

    raw = secret.encode("utf-8")
    texts = {
        secret,
        quote(secret),
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    forms = {text.encode("utf-8") for text in texts}
    forms |= {raw.hex().encode(), raw.hex().upper().encode()}
    forms |= _base64_forms(raw)
    return {form for form in forms if form}


def _base64_forms(raw: bytes) -> set[bytes]:
    forms = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw)
        forms |= {whole, whole.rstrip(b"=")}

        for offset in range(3):
            fragment = _aligned_fragment(encode, raw, offset)
            if len(fragment) >= MIN_FRAGMENT_LENGTH:
                forms.add(fragment)
    return forms


def _aligned_fragment(encode: Any, raw: bytes, offset: int) -> bytes:
    """Return the base64 characters that depend on ``raw`` alone.

    When ``raw`` sits ``offset`` bytes past a 3-byte boundary of a longer
    text, its encoding shares the first and last characters with its
    neighbours; the characters in between are the same whatever surrounds it.
    """
    encoded = encode(bytes(offset) + raw).rstrip(b"=")
    first = -(-offset * 8 // 6)
    last = (offset + len(raw)) * 8 // 6
    return encoded[first:last]


class Masker:
    """Masks a fixed set of secret values and their encodings.

    Every non-empty value is masked however short it is, so a value of a few
    characters masks those characters wherever they appear; correctness of
    the masking comes before readability of the output.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[bytes] = set()
        for secret in secrets:
            forms |= secret_forms(secret)

        ordered = sorted(forms, key=lambda form: (-len(form), form))
        self.longest = len(ordered[0]) if ordered else 0
        self._pattern = (
            re.compile(b"|".join(re.escape(form) for form in ordered))
            if ordered
            else None
        )

    def __repr__(self) -> str:
        return f"Masker(longest={self.longest})"

    def mask_bytes(self, data: bytes) -> bytes:
        """Return ``data`` with every secret form replaced by ``***``."""
        if self._pattern is None:
            return data
        return self._pattern.sub(MASK_BYTES, data)

    def mask_text(self, text: str) -> str:
        """Return ``text`` with every secret form replaced by ``***``."""
        return self.mask_bytes(text.encode("utf-8")).decode("utf-8")

    def mask_value(self, value: Any) -> Any:
        """Return a copy of a JSON-like value with every string masked."""
        if isinstance(value, str):
            return self.mask_text(value)
        if isinstance(value, Mapping):
            return {
                self.mask_text(str(key)): self.mask_value(item)
                for key, item in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self.mask_value(item) for item in value]
        return value

    def mask_file(self, path: str | Path) -> bool:
        """Mask a file in place; return whether anything was masked."""
        file_path = Path(path)
        data = file_path.read_bytes()
        masked = self.mask_bytes(data)
        if masked == data:
            return False

        file_path.write_bytes(masked)
        logger.info("masked secret values in %s", file_path)
        return True

    def stream(self) -> StreamMasker:
        """Return a fresh masker for one byte stream."""
        return StreamMasker(self)

    def copy(
        self, source: BinaryIO, sink: BinaryIO, chunk_size: int = CHUNK_SIZE
    ) -> int:
        """Copy ``source`` to ``sink`` masked as bytes arrive; return bytes written.

        Reads with ``read1`` where the source has it, so a pipe's output is
        written as soon as it is safe rather than at the end.
        """
        read = getattr(source, "read1", source.read)
        stream = self.stream()
        written = 0

        while chunk := read(chunk_size):
            written += _write(sink, stream.feed(chunk))

        written += _write(sink, stream.finish())
        return written

    def _split(self, buffer: bytes, final: bool) -> tuple[bytes, bytes]:
        """Mask what is safe to emit from ``buffer``; return it and the held tail."""
        if self._pattern is None:
            return buffer, b""

        boundary = len(buffer) if final else max(len(buffer) - (self.longest - 1), 0)
        parts = []
        position = 0
        for match in self._pattern.finditer(buffer):
            if match.start() >= boundary:
                break
            parts += [buffer[position : match.start()], MASK_BYTES]
            position = match.end()

        emit_to = max(position, boundary)
        parts.append(buffer[position:emit_to])
        return b"".join(parts), buffer[emit_to:]


class StreamMasker:
    """Masks one byte stream chunk by chunk.

    A match can only start in the last ``longest - 1`` bytes of a chunk if it
    may continue in the next one, so those bytes are held back until more data
    arrives or :meth:`finish` is called.
    """

    def __init__(self, masker: Masker) -> None:
        self._masker = masker
        self._pending = b""

    def feed(self, chunk: bytes) -> bytes:
        """Take the next chunk; return the masked bytes that are safe to write."""
        emitted, self._pending = self._masker._split(self._pending + chunk, final=False)
        return emitted

    def finish(self) -> bytes:
        """Return the masked bytes still held back; the stream has ended."""
        emitted, self._pending = self._masker._split(self._pending, final=True)
        return emitted


def redact_config(
    config: Any,
    keys: Iterable[str],
    masker: Masker | None = None,
) -> Any:
    """Return a copy of ``config`` with the values of ``keys`` replaced by ``***``.

    Keys match case-insensitively at any depth of nested mappings and lists.
    When ``masker`` is given, every other string is masked by value as well.
    """
    names = {key.casefold() for key in keys}

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                key: MASK if str(key).casefold() in names else walk(item)
                for key, item in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [walk(item) for item in value]
        if isinstance(value, str) and masker is not None:
            return masker.mask_text(value)
        return value

    return walk(config)


def _write(sink: BinaryIO, data: bytes) -> int:
    if not data:
        return 0
    sink.write(data)
    sink.flush()
    return len(data)
