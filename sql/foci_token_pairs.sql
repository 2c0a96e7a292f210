-- @name foci_token_pairs
-- @title FOCI token pairs
-- @description Every first sign-in (no incoming token) joined with every token redemption of the
-- @description same session and user in the FOCI base set (S4 split, S5 join, D2, S7 TimeDiff),
-- @description with the columns of both sides. The driver registers it as the view
-- @description foci_token_pairs; each detection filters it and keeps its @output columns.
--
-- Columns carry the rule's output names (first sign-in unprefixed where upstream leaves them so,
-- the second's prefixed Second*, SeconIncomingTokenType spelled as upstream), plus
-- FirstResourceIdentity, SecondResourceIdentity, UserPrincipalName, and the two facts the
-- fine-tuning options test.

WITH first_sign_ins AS (
    -- S4: the first sign-in presented no token. D2: a session-less sign-in never pairs.
    SELECT * FROM foci_token_requests
    WHERE "IncomingTokenType" = 'none' AND "SessionId" <> ''
),
second_sign_ins AS (
    -- S4: anything but the exact text 'none' is a token redemption, '' and 'None' included.
    SELECT * FROM foci_token_requests
    WHERE "IncomingTokenType" <> 'none' AND "SessionId" <> ''
)
-- S5: every matching combination (KQL kind=inner, not innerunique). S7: minute boundaries
-- crossed, floored so that times before 1970 count like any other.
SELECT
    f."TimeGenerated" AS "FirstRequestTimeGenerated",
    f."ResultType" AS "FirstResult",
    f."ResultDescription" AS "FirstResultDescription",
    f."Identity" AS "Identity",
    f."Location" AS "Location",
    f."AppDisplayName" AS "FirstAppDisplayName",
    f."AppId" AS "FirstAppId",
    f."ClientAppUsed" AS "ClientAppUsed",
    f."DeviceDetail" AS "DeviceDetail",
    s."DeviceDetail" AS "SecondDeviceDetail",
    f."IPAddress" AS "IPAddress",
    f."LocationDetails" AS "LocationDetails",
    f."UserAgent" AS "UserAgent",
    s."TimeGenerated" AS "SecondRequestTimeGenerated",
    -- D1: the second sign-in's own result (upstream repeats the first's).
    s."ResultType" AS "SecondResult",
    s."ResultDescription" AS "SecondResultDescription",
    s."AppDisplayName" AS "SecondAppDisplayName",
    s."AppId" AS "SecondAppId",
    s."IncomingTokenType" AS "SeconIncomingTokenType",
    f."SessionId" AS "SessionId",
    minute_index(s."TimeGenerated") - minute_index(f."TimeGenerated") AS "TimeDiff",
    f."AuthenticationProcessingDetails" AS "AuthenticationProcessingDetails",
    s."AuthenticationProcessingDetails" AS "SecondAuthenticationProcessingDetails",
    f."ResourceIdentity" AS "FirstResourceIdentity",
    s."ResourceIdentity" AS "SecondResourceIdentity",
    f."UserPrincipalName" AS "UserPrincipalName",
    -- What the rule's fine-tuning options test on the second sign-in (S10): the Global
    -- Administrator role id anywhere in its processing details (KQL `contains`, so any case),
    -- and a device that is compliant (valid JSON, isCompliant true or "true").
    s."AuthenticationProcessingDetails" ILIKE '%62e90394-69f5-4237-9190-012177145e10%' AS "SecondHasGlobalAdminScope",
    device_is_compliant(s."DeviceDetail") AS "SecondDeviceIsCompliant"
-- Token redemptions first: the engine builds its hash table from the left side, and once a
-- detection's filters on the second sign-in are pushed down, that side is the small one.
FROM second_sign_ins s
JOIN first_sign_ins f
  ON f."SessionId" = s."SessionId"
 AND f."UserPrincipalName" = s."UserPrincipalName"
