from worker.source_clickhouse import run

raise SystemExit(run())
