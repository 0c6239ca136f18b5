"""The state file of a job: the last committed checkpoint of each stream.

It holds a JSON list of Airbyte STATE messages, the format the source reads
with ``--state``, and is replaced atomically after every commit, so a sync
killed at any point resumes from the last checkpoint the target holds.
"""

from __future__ import annotations

import json
import os

from worker import protocol
from worker.errors import ConfigError


class StateFile:
    """Reads and saves per-stream state; a no-op when no path is given."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.streams: dict[tuple[str | None, str], dict] = {}
        if path and os.path.exists(path):
            self._load(path)

    def get(self, namespace: str | None, name: str, key: list[str]) -> list | None:
        """The ``after`` values to resume ``name`` from, or None to start afresh."""
        state = self.streams.get((namespace, name))
        if state is None:
            return None
        if state.get("key") != key:
            raise ConfigError(
                f"The state file {self.path} pages {name} by {state.get('key')} but "
                f"this sync pages it by {key}; delete the state file to start afresh."
            )
        return state.get("after")

    def save(self, namespace: str | None, name: str, state: dict) -> None:
        """Record the committed checkpoint of one stream."""
        self.streams[(namespace, name)] = state
        if not self.path:
            return
        messages = [
            json.loads(protocol.dumps(protocol.stream_state(n, ns, s)))["state"]
            for (ns, n), s in self.streams.items()
        ]
        partial = f"{self.path}.partial"
        with open(partial, "w", encoding="utf-8") as handle:
            json.dump(messages, handle, indent=2)
        os.replace(partial, self.path)

    def exists(self) -> bool:
        return bool(self.path) and os.path.exists(self.path) and bool(self.streams)

    def _load(self, path: str) -> None:
        try:
            with open(path, encoding="utf-8") as handle:
                messages = json.load(handle)
            for message in messages:
                stream = message["stream"]
                descriptor = stream["stream_descriptor"]
                self.streams[(descriptor.get("namespace"), descriptor["name"])] = (
                    stream["stream_state"]
                )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ConfigError(
                f"The state file {path} is not a list of STREAM state messages "
                f"({error}); fix it or delete it to start afresh."
            ) from error
