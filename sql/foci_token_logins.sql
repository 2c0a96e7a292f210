-- @name v1
-- @title Detect suspicious FOCI token logins
-- @description A sign-in to a FOCI family app with no incoming token, followed in the same
-- @description session by a refresh-token sign-in to Azure CLI, Azure PowerShell or Office 365
-- @description Management: a family refresh token redeemed for an attacker-favoured client.
-- @mitre T1651 Cloud Administration Command
-- @mitre T1606 Forge Web Credentials
-- @output FirstRequestTimeGenerated, FirstResult, FirstResultDescription, Identity, Location,
-- @output FirstAppDisplayName, FirstAppId, ClientAppUsed, DeviceDetail, SecondDeviceDetail,
-- @output IPAddress, LocationDetails, UserAgent, SecondRequestTimeGenerated, SecondResult,
-- @output SecondResultDescription, SecondAppDisplayName, SecondAppId, SeconIncomingTokenType,
-- @output SessionId, TimeDiff, AuthenticationProcessingDetails, SecondAuthenticationProcessingDetails
-- @param max_time_diff bigint null | keep pairs at most this many minute boundaries apart (the rule's maxTimeDiff)
-- @param cli_tuning text(off|global-admin|global-admin-noncompliant) off | restrict Azure CLI seconds: Global Administrator scope, optionally from a non-compliant device
--
-- Reads foci_token_requests, the FOCI base set (S1 window, S2 tenant, S3 FOCI list) that
-- sql/foci_token_requests.sql defines and the driver registers once per run for every detection.
-- Returns the @output columns, then UserPrincipalName for triage summaries.

WITH first_sign_ins AS (
    -- S4: the first sign-in presented no token. D2: a session-less sign-in never pairs.
    SELECT * FROM foci_token_requests
    WHERE "IncomingTokenType" = 'none' AND "SessionId" <> ''
),
second_sign_ins AS (
    -- S4: anything but the exact text 'none' is a token redemption, '' and 'None' included.
    SELECT * FROM foci_token_requests
    WHERE "IncomingTokenType" <> 'none' AND "SessionId" <> ''
),
pairs AS (
    -- S5: every matching combination (KQL kind=inner), S6: the apps differ,
    -- S7: minute boundaries crossed, floored so that times before 1970 count like any other.
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
        f."UserPrincipalName" AS "UserPrincipalName"
    FROM first_sign_ins f
    JOIN second_sign_ins s
      ON f."SessionId" = s."SessionId"
     AND f."UserPrincipalName" = s."UserPrincipalName"
    WHERE f."AppDisplayName" <> s."AppDisplayName"
)
SELECT *
FROM pairs
WHERE "TimeDiff" >= 0                                                     -- S8
  AND ($max_time_diff IS NULL OR "TimeDiff" <= $max_time_diff)
  AND "SecondAppDisplayName" IN                                           -- S9
      ('Microsoft Azure CLI', 'Microsoft Azure PowerShell', 'Office 365 Management')
  AND (                                                                   -- S10
      "SecondAppDisplayName" <> 'Microsoft Azure CLI'
      OR $cli_tuning = 'off'
      OR ("SecondAuthenticationProcessingDetails" ILIKE '%62e90394-69f5-4237-9190-012177145e10%'
          AND ($cli_tuning = 'global-admin' OR NOT device_is_compliant("SecondDeviceDetail")))
  )
ORDER BY "FirstRequestTimeGenerated", "SessionId", "SecondRequestTimeGenerated",
         -- Beyond the documented order: ties broken so that every run prints the same bytes.
         "FirstAppDisplayName", "SecondAppDisplayName", "FirstAppId", "SecondAppId",
         "SeconIncomingTokenType", "FirstResult", "SecondResult", "IPAddress", "DeviceDetail",
         "SecondDeviceDetail", "AuthenticationProcessingDetails",
         "SecondAuthenticationProcessingDetails", "UserAgent", "Identity"
