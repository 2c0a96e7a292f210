-- @name v2
-- @title Detect suspicious FOCI token logins (v2, ROADtools)
-- @description As v1, aimed at ROADtools: also keeps a token redeemed for the same app with
-- @description another scope, and requires the second sign-in to be a successful token for
-- @description Azure AD Graph by Azure CLI, Azure PowerShell, Copilot, Visual Studio or the Edge
-- @description new-tab page, at most max_time_diff minutes after the first.
-- @mitre T1651 Cloud Administration Command
-- @mitre T1606 Forge Web Credentials
-- @output FirstRequestTimeGenerated, FirstResult, FirstResultDescription, Identity, Location,
-- @output FirstAppDisplayName, FirstAppId, ClientAppUsed, DeviceDetail, SecondDeviceDetail,
-- @output IPAddress, LocationDetails, UserAgent, SecondRequestTimeGenerated, SecondResult,
-- @output SecondResultDescription, SecondAppDisplayName, SecondAppId, SeconIncomingTokenType,
-- @output SessionId, TimeDiff, FirstOauthScopeInfo, SecondOauthScopeInfo, FirstResourceIdentity,
-- @output SecondResourceIdentity
-- @param max_time_diff bigint 90 | keep pairs at most this many minute boundaries apart (always applied in v2)
-- @param cli_tuning text(off|global-admin|global-admin-noncompliant) off | restrict Azure CLI seconds: Global Administrator scope, optionally from a non-compliant device
--
-- Reads foci_token_pairs (sql/foci_token_pairs.sql), the pairs v1 also reads: same source rules
-- (S1–S5, D2, S7). No app inequality in v2: same-app pairs stay. The driver keeps the @output
-- columns.

SELECT
    *,
    -- Capture group 1 of the rule's regex, greedy and first match, byte for byte; '' if none.
    coalesce(regexp_match("AuthenticationProcessingDetails",
        '\{"key":"Oauth Scope Info","value":"\[(.*)\]"\}')[1], '') AS "FirstOauthScopeInfo",
    coalesce(regexp_match("SecondAuthenticationProcessingDetails",
        '\{"key":"Oauth Scope Info","value":"\[(.*)\]"\}')[1], '') AS "SecondOauthScopeInfo"
FROM foci_token_pairs
WHERE "TimeDiff" >= 1 AND "TimeDiff" <= $max_time_diff
  AND "SecondAppDisplayName" IN ('Microsoft Azure CLI', 'Copilot App', 'Microsoft Azure PowerShell',
                                 'Visual Studio - Legacy', 'Microsoft Edge Enterprise New Tab Page')
  -- Azure AD Graph, the resource ROADtools asks for.
  AND "SecondResourceIdentity" = '00000002-0000-0000-c000-000000000000'
  -- D1: the second sign-in's own result (upstream's v2 tests the first's).
  AND "SecondResult" = '0'
  AND (                                                                   -- S10, as in v1
      "SecondAppDisplayName" <> 'Microsoft Azure CLI'
      OR $cli_tuning = 'off'
      OR ("SecondHasGlobalAdminScope" AND ($cli_tuning = 'global-admin' OR NOT "SecondDeviceIsCompliant"))
  )
ORDER BY "FirstRequestTimeGenerated", "SessionId", "SecondRequestTimeGenerated",
         -- Beyond the documented order: ties broken so that every run prints the same bytes.
         -- (Not by SecondResult: the filter makes it constant, and DataFusion 55 then plans a
         -- merge that fails its own sanity check.)
         "FirstAppDisplayName", "SecondAppDisplayName", "FirstAppId", "SecondAppId",
         "SeconIncomingTokenType", "FirstResult", "FirstOauthScopeInfo",
         "SecondOauthScopeInfo", "IPAddress", "DeviceDetail", "SecondDeviceDetail",
         "FirstResourceIdentity", "UserAgent", "Identity"
