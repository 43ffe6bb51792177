"""taar-spark-collaborative: the collaborative recommender's item matrix and add-on mapping from clients_daily."""

__version__ = "0.1.0"
