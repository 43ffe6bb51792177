"""`python -m taar_spark_lite`."""

from taar_spark_lite.cli import main

main()
