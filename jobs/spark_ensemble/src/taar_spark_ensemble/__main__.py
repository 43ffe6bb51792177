"""`python -m taar_spark_ensemble`."""

from taar_spark_ensemble.cli import main

main()
