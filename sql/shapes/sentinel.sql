-- @shape sentinel
-- @title Microsoft Sentinel / Log Analytics rows
-- @description AADNonInteractiveUserSignInLogs as Log Analytics stores it and as its "data export"
-- @description writes it: one flat object per line with the canonical PascalCase columns. Nested
-- @description columns (DeviceDetail, LocationDetails, AuthenticationProcessingDetails) may be JSON
-- @description text or JSON objects; objects are read as their JSON text.
-- @detect TimeGenerated
-- @field TimeGenerated time
-- @field AppDisplayName text
-- @field AppId text
-- @field AuthenticationProcessingDetails text
-- @field ClientAppUsed text
-- @field DeviceDetail text
-- @field HomeTenantId text
-- @field Identity text
-- @field IncomingTokenType text
-- @field IPAddress text
-- @field Level text
-- @field Location text
-- @field LocationDetails text
-- @field ResourceIdentity text
-- @field ResourceTenantId text
-- @field ResultDescription text
-- @field ResultType text
-- @field SessionId text
-- @field UserAgent text
-- @field UserPrincipalName text
--
-- The columns already carry their canonical names: the mapping is the identity.

SELECT
    "TimeGenerated",
    "AppDisplayName",
    "AppId",
    "AuthenticationProcessingDetails",
    "ClientAppUsed",
    "DeviceDetail",
    "HomeTenantId",
    "Identity",
    "IncomingTokenType",
    "IPAddress",
    "Level",
    "Location",
    "LocationDetails",
    "ResourceIdentity",
    "ResourceTenantId",
    "ResultDescription",
    "ResultType",
    "SessionId",
    "UserAgent",
    "UserPrincipalName"
FROM sentinel_records
