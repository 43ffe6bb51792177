"""pytest plugin: real local services and a shared Spark session for taar-etl tests."""
