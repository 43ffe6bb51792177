"""TAAR profile loader: clients_last_seen -> hashed profiles -> Avro -> Bigtable."""

__version__ = "0.1.0"
