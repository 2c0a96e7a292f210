-- @name triage_summary
-- @title Triage summary
-- @description One row per (detection, user, session, second app) over a detection's alerts,
-- @description which the driver registers as the view alerts: a noisy session's thousands of
-- @description pairs become one line to triage.
-- @output Detection, UserPrincipalName, SessionId, SecondAppDisplayName, Pairs,
-- @output EarliestFirstRequestTimeGenerated, EarliestSecondRequestTimeGenerated,
-- @output LatestSecondRequestTimeGenerated, FirstAppDisplayNames, MinTimeDiff, AnySecondSucceeded
-- @param detection text null | the detection whose alerts are summarised

SELECT
    $detection AS "Detection",
    "UserPrincipalName",
    "SessionId",
    "SecondAppDisplayName",
    count(*) AS "Pairs",
    min("FirstRequestTimeGenerated") AS "EarliestFirstRequestTimeGenerated",
    min("SecondRequestTimeGenerated") AS "EarliestSecondRequestTimeGenerated",
    max("SecondRequestTimeGenerated") AS "LatestSecondRequestTimeGenerated",
    array_to_string(array_sort(array_distinct(array_agg("FirstAppDisplayName"))), ', ') AS "FirstAppDisplayNames",
    min("TimeDiff") AS "MinTimeDiff",
    -- SecondResult is the second sign-in's own ResultType (D1); '0' is success.
    bool_or("SecondResult" = '0') AS "AnySecondSucceeded"
FROM alerts
GROUP BY "UserPrincipalName", "SessionId", "SecondAppDisplayName"
ORDER BY "EarliestFirstRequestTimeGenerated", "SessionId", "UserPrincipalName", "SecondAppDisplayName"
