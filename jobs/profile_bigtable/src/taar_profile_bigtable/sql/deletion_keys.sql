-- Row keys (hashed ids) of the clients that asked for deletion between start_date and end_date.
SELECT DISTINCT TO_HEX(SHA256(client_id)) AS client_id
FROM {deletion_table}
WHERE client_id IS NOT NULL
  AND DATE(submission_timestamp) BETWEEN @start_date AND @end_date
