"""taar-spark-similarity: the similarity recommender's donors and LR curves from clients_daily."""

__version__ = "0.1.0"
