-- @shape diagnostic
-- @title Entra ID diagnostic settings export
-- @description Category NonInteractiveUserSignInLogs as diagnostic settings write it to a storage
-- @description account (insights-logs-noninteractiveusersigninlogs/.../PT1H.json, one record per
-- @description line) or to an Event Hub ({"records":[...]} per message): top-level time,
-- @description resultType, identity, location (the country), and the sign-in in `properties`.
-- @detect time+properties time+category
-- @field time time
-- @field Level text
-- @field identity text
-- @field location text
-- @field resultDescription text
-- @field resultType text
-- @field properties/appDisplayName text
-- @field properties/appId text
-- @field properties/authenticationProcessingDetails text
-- @field properties/clientAppUsed text
-- @field properties/deviceDetail text
-- @field properties/homeTenantId text
-- @field properties/incomingTokenType text
-- @field properties/ipAddress text
-- @field properties/location text
-- @field properties/resourceId text
-- @field properties/resourceTenantId text
-- @field properties/sessionId text
-- @field properties/userAgent text
-- @field properties/userPrincipalName text
--
-- A field column is named by its JSON path, `/` between keys. Nested objects and arrays arrive
-- as JSON text, numbers as their text, so the mapping is renaming only.

SELECT
    "time"                                       AS "TimeGenerated",
    "properties/appDisplayName"                  AS "AppDisplayName",
    "properties/appId"                           AS "AppId",
    "properties/authenticationProcessingDetails" AS "AuthenticationProcessingDetails",
    "properties/clientAppUsed"                   AS "ClientAppUsed",
    "properties/deviceDetail"                    AS "DeviceDetail",
    "properties/homeTenantId"                    AS "HomeTenantId",
    "identity"                                   AS "Identity",
    "properties/incomingTokenType"               AS "IncomingTokenType",
    "properties/ipAddress"                       AS "IPAddress",
    "Level"                                      AS "Level",
    "location"                                   AS "Location",
    "properties/location"                        AS "LocationDetails",
    "properties/resourceId"                      AS "ResourceIdentity",
    "properties/resourceTenantId"                AS "ResourceTenantId",
    "resultDescription"                          AS "ResultDescription",
    "resultType"                                 AS "ResultType",
    "properties/sessionId"                       AS "SessionId",
    "properties/userAgent"                       AS "UserAgent",
    "properties/userPrincipalName"               AS "UserPrincipalName"
FROM diagnostic_records
