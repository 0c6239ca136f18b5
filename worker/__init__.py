"""The worker: everything that runs inside the sandbox and touches rows.

It moves typed data from ClickHouse to DuckDB over the Airbyte connector
contract and proves the move. It never imports the harness (``etlkit``); the
two meet only through files, the environment and stdout.
"""
