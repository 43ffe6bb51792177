"""The file spark-submit runs (Dataproc): the package itself comes from `--py-files`.

spark-submit --py-files spark_collaborative.zip spark_collaborative_main.py --date 20261127 ...
"""

from taar_spark_collaborative.cli import main

if __name__ == "__main__":
    main(prog_name="taar-spark-collaborative")
