-- TAAR client profiles of one day, BigQuery dialect. Run as is on BigQuery; transpiled by
-- sqlglot for DuckDB. The job fills in the two table names; the query parameters are
-- submission_date (DATE) and sample_threshold (STRING). (Comments name no parameter with
-- its sigil: some engines count parameters textually.)
--
-- The client id is hashed here, first, so no raw id reaches the table, the Avro export or
-- Bigtable. Sampling keeps a client when the first 8 hex digits of its hashed id sort below
-- sample_threshold (= the sample rate scaled to 16^8): deterministic, so a client is in or
-- out of the sample on every run.
--
-- One row per client: a client id can appear on several rows of a day. The row kept is the
-- first in a total order on its content (rows with add-ons first, then the most complete
-- text fields, the most activity, then the values themselves), so the choice never
-- depends on how the engine split the work; the others are counted by source_stats.
-- Null city, locale or os become '': the recommender's profile fetcher substitutes ''
-- only for a missing key, and a null disables its similarity recommender.
CREATE OR REPLACE TABLE {destination_table} AS
WITH hashed AS (
  SELECT
    TO_HEX(SHA256(client_id)) AS client_id,
    city,
    locale,
    os,
    subsession_hours_sum,
    places_bookmarks_count_mean,
    scalar_parent_browser_engagement_tab_open_event_count_sum,
    scalar_parent_browser_engagement_total_uri_count_sum,
    scalar_parent_browser_engagement_unique_domains_count_mean,
    active_addons,
    ARRAY(
      SELECT a.addon_id FROM UNNEST(active_addons) AS a
      WHERE a IS NOT NULL AND a.addon_id IS NOT NULL
      ORDER BY a.addon_id
    ) AS addon_ids
  FROM {source_table}
  WHERE submission_date = @submission_date
    AND client_id IS NOT NULL
),
ranked AS (
  SELECT
    *,
    ROW_NUMBER() OVER (
      PARTITION BY client_id
      ORDER BY
        ARRAY_LENGTH(addon_ids) > 0 DESC,
        (IF(city IS NULL, 0, 1) + IF(locale IS NULL, 0, 1) + IF(os IS NULL, 0, 1)) DESC,
        subsession_hours_sum DESC NULLS LAST,
        ARRAY_LENGTH(addon_ids) DESC,
        ARRAY_TO_STRING(addon_ids, ' ') ASC,
        city ASC NULLS LAST,
        locale ASC NULLS LAST,
        os ASC NULLS LAST,
        places_bookmarks_count_mean DESC NULLS LAST,
        scalar_parent_browser_engagement_tab_open_event_count_sum DESC NULLS LAST,
        scalar_parent_browser_engagement_total_uri_count_sum DESC NULLS LAST,
        scalar_parent_browser_engagement_unique_domains_count_mean DESC NULLS LAST,
        -- last: the whole entry list (flags, versions, entry order), so rows equal on every key
        -- above but differing inside an add-on entry still pick one the same way on every run
        TO_JSON_STRING(active_addons) ASC
    ) AS row_rank
  FROM hashed
)
SELECT
  client_id,
  COALESCE(city, '') AS city,
  COALESCE(locale, '') AS locale,
  COALESCE(os, '') AS os,
  CAST(ROUND(COALESCE(subsession_hours_sum, 0) * 3600) AS INT64) AS subsession_length,
  COALESCE(places_bookmarks_count_mean, 0) AS places_bookmarks_count,
  COALESCE(scalar_parent_browser_engagement_tab_open_event_count_sum, 0)
    AS scalar_parent_browser_engagement_tab_open_event_count,
  COALESCE(scalar_parent_browser_engagement_total_uri_count_sum, 0)
    AS scalar_parent_browser_engagement_total_uri_count,
  COALESCE(scalar_parent_browser_engagement_unique_domains_count_mean, 0)
    AS scalar_parent_browser_engagement_unique_domains_count,
  ARRAY(
    SELECT a FROM UNNEST(active_addons) AS a
    WHERE a IS NOT NULL AND a.addon_id IS NOT NULL
  ) AS active_addons,
  ARRAY(
    SELECT a.addon_id FROM UNNEST(active_addons) AS a
    WHERE a IS NOT NULL AND a.addon_id IS NOT NULL
      AND (COALESCE(a.user_disabled, FALSE) OR COALESCE(a.app_disabled, FALSE))
  ) AS disabled_addons_ids
FROM ranked
WHERE row_rank = 1
  AND SUBSTR(client_id, 1, 8) < @sample_threshold
  AND ARRAY_LENGTH(addon_ids) > 0
