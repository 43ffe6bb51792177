"""The file spark-submit runs (Dataproc): the package itself comes from `--py-files`.

spark-submit --py-files spark_similarity.zip spark_similarity_main.py --date 20261127 ...
"""

from taar_spark_similarity.cli import main

if __name__ == "__main__":
    main(prog_name="taar-spark-similarity")
