"""TAAR ensemble: the weights of the collaborative, similarity and locale recommenders."""

__version__ = "0.1.0"
