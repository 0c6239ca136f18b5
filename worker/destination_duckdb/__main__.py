from worker.destination_duckdb import run

raise SystemExit(run())
