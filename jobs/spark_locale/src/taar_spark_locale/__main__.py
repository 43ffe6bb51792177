"""`python -m taar_spark_locale`."""

from taar_spark_locale.cli import main

main()
