-- @name foci_token_requests
-- @title The FOCI base set
-- @description Sign-ins in the time window, to the home tenant, by a FOCI family client: the rows
-- @description every FOCI detection pairs (S1 window, S2 tenant, S3 FOCI list). The driver
-- @description registers this query, bound, as the view foci_token_requests.
-- @param after timestamp null | keep sign-ins with TimeGenerated > after (--lookback sets it to now - lookback)
-- @param since timestamp null | keep sign-ins with TimeGenerated >= since
-- @param until timestamp null | keep sign-ins with TimeGenerated < until
-- @param passes bigint null | split the sessions into this many hash passes (--memory-limit sets it when a join does not fit)
-- @param pass bigint null | the pass to compute, 0 to passes - 1
--
-- Every string column of signin_logs is '' when missing (KQL strings are never null), and
-- TimeGenerated is a UTC timestamp, NULL when missing: such rows never reach a detection.

SELECT *
FROM signin_logs
WHERE "TimeGenerated" IS NOT NULL
  AND ($after IS NULL OR "TimeGenerated" > $after)
  AND ($since IS NULL OR "TimeGenerated" >= $since)
  AND ($until IS NULL OR "TimeGenerated" < $until)
  AND "HomeTenantId" = "ResourceTenantId"
  -- D3: client ids are GUIDs, compared case-insensitively (KQL `in` is case-sensitive).
  AND lower("AppId") IN (SELECT lower(client_id) FROM foci_clients)
  -- Every sign-in of a session falls in the same pass, so pairs never cross passes.
  AND ($passes IS NULL OR session_bucket("SessionId", $passes) = $pass)
