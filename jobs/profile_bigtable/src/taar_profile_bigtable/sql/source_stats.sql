-- What --fill-bq read for the day: all rows and the rows dropped for a null client_id.
SELECT
  COUNT(*) AS source_rows,
  COUNTIF(client_id IS NULL) AS null_client_id_rows
FROM `{source_table}`
WHERE submission_date = @submission_date
