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
-- Reads foci_token_pairs (sql/foci_token_pairs.sql): every first sign-in joined with every token
-- redemption of its session, over the FOCI base set (sql/foci_token_requests.sql: S1 window,
-- S2 tenant, S3 FOCI list), with TimeDiff (S7). The driver keeps the @output columns.

SELECT *
FROM foci_token_pairs
WHERE "FirstAppDisplayName" <> "SecondAppDisplayName"                     -- S6
  AND "TimeDiff" >= 0                                                     -- S8
  AND ($max_time_diff IS NULL OR "TimeDiff" <= $max_time_diff)
  AND "SecondAppDisplayName" IN                                           -- S9
      ('Microsoft Azure CLI', 'Microsoft Azure PowerShell', 'Office 365 Management')
  AND (                                                                   -- S10
      "SecondAppDisplayName" <> 'Microsoft Azure CLI'
      OR $cli_tuning = 'off'
      OR ("SecondHasGlobalAdminScope" AND ($cli_tuning = 'global-admin' OR NOT "SecondDeviceIsCompliant"))
  )
ORDER BY "FirstRequestTimeGenerated", "SessionId", "SecondRequestTimeGenerated",
         -- Beyond the documented order: ties broken so that every run prints the same bytes.
         "FirstAppDisplayName", "SecondAppDisplayName", "FirstAppId", "SecondAppId",
         "SeconIncomingTokenType", "FirstResult", "SecondResult", "IPAddress", "DeviceDetail",
         "SecondDeviceDetail", "AuthenticationProcessingDetails",
         "SecondAuthenticationProcessingDetails", "UserAgent", "Identity"
