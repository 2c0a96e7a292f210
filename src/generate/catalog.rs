//! Reference data the generator draws from: apps, resources, Entra error codes, people,
//! places and Conditional Access policies. Ids and names are public facts about Microsoft's
//! first-party apps and Entra's error codes.

/// A client application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct App {
    pub id: &'static str,
    pub name: &'static str,
    /// Relative frequency in the background.
    pub weight: u32,
}

pub const TEAMS: App = App { id: "1fec8e78-bce4-4aaf-ab1b-5451cc387264", name: "Microsoft Teams", weight: 30 };
pub const OFFICE: App = App { id: "d3590ed6-52b3-4102-aeff-aad2292ab01c", name: "Microsoft Office", weight: 18 };
pub const OUTLOOK_MOBILE: App = App { id: "27922004-5251-4030-b22d-91ecd9a37ea4", name: "Outlook Mobile", weight: 10 };
pub const ONEDRIVE_SYNC: App = App { id: "ab9b8c07-8f02-4f72-87fa-80105867a763", name: "OneDrive SyncEngine", weight: 10 };
pub const EDGE: App = App { id: "ecd6b820-32c2-49b6-98a6-444530e5a77a", name: "Microsoft Edge", weight: 8 };
pub const ONEDRIVE_IOS: App = App { id: "af124e86-4e96-495a-b70a-90f90ab96707", name: "OneDrive iOS App", weight: 3 };
pub const OFFICE_PWA: App = App { id: "0ec893e0-5785-4de6-99da-4ed124e5296c", name: "Office UWP PWA", weight: 3 };
pub const BING_EDGE: App = App { id: "2d7f3606-b07d-41d1-b9d2-0d0c9296a6e8", name: "Microsoft Bing Search for Microsoft Edge", weight: 2 };
pub const EDGE_NEW_TAB: App = App { id: "d7b530a4-7680-4c23-a8bf-c52c121d2e87", name: "Microsoft Edge Enterprise New Tab Page", weight: 2 };
pub const AZURE_CLI: App = App { id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46", name: "Microsoft Azure CLI", weight: 1 };
pub const AZURE_POWERSHELL: App = App { id: "1950a258-227b-4e31-a9cf-717495945fc2", name: "Microsoft Azure PowerShell", weight: 1 };
pub const O365_MANAGEMENT: App = App { id: "00b41c95-dab0-4487-9791-b9d2c32c80f2", name: "Office 365 Management", weight: 1 };
pub const VISUAL_STUDIO: App = App { id: "872cd9fa-d31f-45e0-9eab-6e460a02d1f1", name: "Visual Studio - Legacy", weight: 1 };
pub const WINDOWS_SIGN_IN: App = App { id: "38aa3b87-a06d-4817-b275-7a316988d93b", name: "Windows Sign In", weight: 8 };
pub const AZURE_PORTAL: App = App { id: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", name: "Azure Portal", weight: 2 };
pub const INTUNE_PORTAL: App = App { id: "9ba1a5c7-f17a-4de9-a1f1-6178c8d51223", name: "Microsoft Intune Company Portal", weight: 3 };
pub const EXCHANGE_ONLINE: App = App { id: "00000002-0000-0ff1-ce00-000000000000", name: "Office 365 Exchange Online", weight: 3 };
pub const MY_APPS: App = App { id: "2793995e-0a7d-40d7-bd35-6968ba142197", name: "My Apps", weight: 1 };

/// Every app the background draws from.
pub const BACKGROUND_APPS: &[App] = &[
    TEAMS, OFFICE, OUTLOOK_MOBILE, ONEDRIVE_SYNC, EDGE, ONEDRIVE_IOS, OFFICE_PWA, BING_EDGE, EDGE_NEW_TAB,
    AZURE_CLI, AZURE_POWERSHELL, O365_MANAGEMENT, VISUAL_STUDIO, WINDOWS_SIGN_IN, AZURE_PORTAL,
    INTUNE_PORTAL, EXCHANGE_ONLINE, MY_APPS,
];

/// Apps some detection watches as a second sign-in (v1 and v2 lists). The background only
/// signs in to them without a token, so it can never pair by chance.
pub const WATCHED_SECOND_APPS: &[&str] = &[
    "Microsoft Azure CLI", "Microsoft Azure PowerShell", "Office 365 Management", "Copilot App",
    "Visual Studio - Legacy", "Microsoft Edge Enterprise New Tab Page",
];

/// A resource a token is issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    pub id: &'static str,
    pub name: &'static str,
}

pub const MS_GRAPH: Resource = Resource { id: "00000003-0000-0000-c000-000000000000", name: "Microsoft Graph" };
pub const AAD_GRAPH: Resource = Resource { id: "00000002-0000-0000-c000-000000000000", name: "Windows Azure Active Directory" };
pub const EXCHANGE: Resource = Resource { id: "00000002-0000-0ff1-ce00-000000000000", name: "Office 365 Exchange Online" };
pub const SHAREPOINT: Resource = Resource { id: "00000003-0000-0ff1-ce00-000000000000", name: "Office 365 SharePoint Online" };
pub const ARM: Resource = Resource { id: "797f4846-ba00-4fd7-ba43-dac1f8f63013", name: "Windows Azure Service Management API" };
pub const TEAMS_SERVICE: Resource = Resource { id: "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", name: "Microsoft Teams Services" };
pub const BACKGROUND_RESOURCES: &[Resource] = &[MS_GRAPH, MS_GRAPH, MS_GRAPH, EXCHANGE, SHAREPOINT, TEAMS_SERVICE, ARM, AAD_GRAPH];

/// A failed sign-in's result.
pub struct Failure {
    pub code: &'static str,
    pub description: &'static str,
}

/// Common Entra ID non-interactive failures.
pub const FAILURES: &[Failure] = &[
    Failure { code: "50140", description: "This error occurred due to 'Keep me signed in' interrupt when the user was signing in." },
    Failure { code: "50126", description: "Error validating credentials due to invalid username or password." },
    Failure { code: "70044", description: "The session has expired or is invalid due to sign-in frequency checks by conditional access." },
    Failure { code: "50076", description: "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource." },
    Failure { code: "50074", description: "Strong Authentication is required." },
    Failure { code: "700082", description: "The refresh token has expired due to inactivity." },
    Failure { code: "50133", description: "Session is invalid due to expiration or recent password change." },
    Failure { code: "53003", description: "Access has been blocked by Conditional Access policies." },
];

pub const FIRST_NAMES: &[&str] = &[
    "Adele", "Alex", "Allan", "Brian", "Christie", "Debra", "Diego", "Emily", "Enrico", "Grady", "Henrietta", "Irvin",
    "Isaiah", "Johanna", "Joni", "Lee", "Lidia", "Lynne", "Megan", "Miriam", "Nestor", "Patti", "Pradeep", "Raul",
];
pub const LAST_NAMES: &[&str] = &[
    "Vance", "Wilber", "Deyoung", "Johnson", "Cline", "Berger", "Siciliani", "Braden", "Cattaneo", "Archie", "Mueller",
    "Bellinger", "Langer", "Lauer", "Sherman", "Gu", "Holloway", "Robbins", "Bowen", "Graham", "Wilke", "Fernandez",
    "Gupta", "Rodriguez",
];

/// (city, state, country, latitude, longitude, IPv4 prefix from a documentation range).
pub const PLACES: &[(&str, &str, &str, f64, f64, &str)] = &[
    ("Amsterdam", "Noord-Holland", "NL", 52.37, 4.89, "203.0.113."),
    ("Seattle", "Washington", "US", 47.61, -122.33, "198.51.100."),
    ("London", "England", "GB", 51.51, -0.13, "192.0.2."),
    ("Munich", "Bavaria", "DE", 48.14, 11.58, "203.0.113."),
    ("Toronto", "Ontario", "CA", 43.65, -79.38, "198.51.100."),
    ("Singapore", "Singapore", "SG", 1.35, 103.82, "192.0.2."),
];

/// (operating system, browser, user agent) of a device kind.
pub const DEVICE_KINDS: &[(&str, &str, &str)] = &[
    ("Windows10", "Edge 142.0.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0"),
    ("Windows", "Rich Client 5.2.0.0", "Windows-AzureAD-Authentication-Provider/1.0"),
    ("Ios 18.6", "Mobile Safari", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Teams/6.19"),
    ("Android 15", "Rich Client 5.1.0", "Dalvik/2.1.0 (Linux; U; Android 15; Pixel 8 Build/AP4A.250205.002)"),
    ("MacOs", "Chrome 142.0.0", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"),
];

/// (id, display name, grant controls, session controls) of the tenant's Conditional Access policies.
pub const CA_POLICIES: &[(&str, &str, &str, &str)] = &[
    ("b1f1a0c2-5d3e-4f7a-9b8c-0d1e2f3a4b01", "CA001: Require multifactor authentication for admins", "[\"Mfa\"]", "[]"),
    ("b1f1a0c2-5d3e-4f7a-9b8c-0d1e2f3a4b03", "CA003: Block legacy authentication", "[\"Block\"]", "[]"),
    ("b1f1a0c2-5d3e-4f7a-9b8c-0d1e2f3a4b04", "CA004: Require compliant or hybrid joined device", "[\"RequireCompliantDevice\",\"RequireDomainJoinedDevice\"]", "[]"),
    ("b1f1a0c2-5d3e-4f7a-9b8c-0d1e2f3a4b05", "CA005: Sign-in frequency for unmanaged devices", "[]", "[\"SignInFrequency\",\"PersistentBrowserSessionMode\"]"),
    ("b1f1a0c2-5d3e-4f7a-9b8c-0d1e2f3a4b06", "CA006: Require MFA for Azure management", "[\"Mfa\"]", "[]"),
    ("b1f1a0c2-5d3e-4f7a-9b8c-0d1e2f3a4b07", "CA007: Block access from unsupported countries", "[\"Block\"]", "[]"),
];

pub const GLOBAL_ADMIN_ROLE: &str = "62e90394-69f5-4237-9190-012177145e10";
