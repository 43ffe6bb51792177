"""`python -m taar_spark_similarity`."""

from taar_spark_similarity.cli import main

main()
