-- What --fill-bq read for the day: all rows, the rows dropped for a null client_id, and the
-- rows dropped because their client id already has a row (one profile per client).
SELECT
  COUNT(*) AS source_rows,
  COUNTIF(client_id IS NULL) AS null_client_id_rows,
  COUNT(client_id) - COUNT(DISTINCT client_id) AS duplicate_client_id_rows
FROM {source_table}
WHERE submission_date = @submission_date
