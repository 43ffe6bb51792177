"""The file spark-submit runs (Dataproc): the package itself comes from `--py-files`.

spark-submit --py-files spark_ensemble.zip spark_ensemble_main.py --date 20261127 ...
"""

from taar_spark_ensemble.cli import main

if __name__ == "__main__":
    main(prog_name="taar-spark-ensemble")
