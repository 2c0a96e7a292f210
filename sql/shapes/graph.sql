-- @shape graph
-- @title Microsoft Graph sign-ins
-- @description auditLogs/signIns objects (beta, which carries sessionId and incomingTokenType), one
-- @description per line or as pages {"value":[...]} as the API returns them. Graph has no Level.
-- @detect createdDateTime
-- @field createdDateTime time
-- @field appDisplayName text
-- @field appId text
-- @field authenticationProcessingDetails text
-- @field clientAppUsed text
-- @field deviceDetail text
-- @field homeTenantId text
-- @field userDisplayName text
-- @field incomingTokenType text
-- @field ipAddress text
-- @field location/countryOrRegion text
-- @field location text
-- @field resourceId text
-- @field resourceTenantId text
-- @field status/failureReason text
-- @field status/errorCode text
-- @field sessionId text
-- @field userAgent text
-- @field userPrincipalName text
--
-- status.errorCode is a number in Graph; it arrives as its text, as ResultType is text.

SELECT
    "createdDateTime"                 AS "TimeGenerated",
    "appDisplayName"                  AS "AppDisplayName",
    "appId"                           AS "AppId",
    "authenticationProcessingDetails" AS "AuthenticationProcessingDetails",
    "clientAppUsed"                   AS "ClientAppUsed",
    "deviceDetail"                    AS "DeviceDetail",
    "homeTenantId"                    AS "HomeTenantId",
    "userDisplayName"                 AS "Identity",
    "incomingTokenType"               AS "IncomingTokenType",
    "ipAddress"                       AS "IPAddress",
    arrow_cast(NULL, 'Utf8')          AS "Level",
    "location/countryOrRegion"        AS "Location",
    "location"                        AS "LocationDetails",
    "resourceId"                      AS "ResourceIdentity",
    "resourceTenantId"                AS "ResourceTenantId",
    "status/failureReason"            AS "ResultDescription",
    "status/errorCode"                AS "ResultType",
    "sessionId"                       AS "SessionId",
    "userAgent"                       AS "UserAgent",
    "userPrincipalName"               AS "UserPrincipalName"
FROM graph_records
