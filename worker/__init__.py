"""The worker: everything that runs inside the sandbox and touches rows.

It moves typed data from ClickHouse to DuckDB over the Airbyte connector
contract and proves the move. It never imports the harness (``etlkit``); the
two meet only through files, the environment and stdout.

Start-up cost matters here, because every protocol sync starts two connector
processes. jsonschema, which the Airbyte CDK imports, loads the optional
``rfc3987_syntax`` IRI checker when it is installed, and that checker builds
dozens of grammar parsers at import: about a second of every start. The worker
validates no IRI formats, so it marks the module absent before anything
imports jsonschema (unless something already loaded it).
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)
