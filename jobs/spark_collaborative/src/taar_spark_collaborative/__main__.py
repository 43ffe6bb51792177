"""`python -m taar_spark_collaborative`."""

from taar_spark_collaborative.cli import main

main()
