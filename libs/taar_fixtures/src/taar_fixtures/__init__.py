"""Local stand-ins for taar-etl inputs (AMO API, telemetry tables)."""
