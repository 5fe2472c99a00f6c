//! Every route of both surfaces, with who may call it. This table is the one
//! place a route's permission is written down; the local gateway, the SAM check
//! and the authorization step all read it.

use crate::domain::{Action, Permission, Resource};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Public,
    Internal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed; a valid token, when sent, identifies the caller.
    Open,
    /// Any valid Firebase ID token.
    Token,
    /// A control-center user, bound by verified email on first login.
    ControlCenterLogin,
    /// A control-center user whose role grants this permission.
    ControlCenter(Permission),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Also the function's crate and binary name.
    pub name: &'static str,
    pub method: &'static str,
    /// Path template; `{id}` is a path parameter.
    pub path: &'static str,
    pub surface: Surface,
    pub access: Access,
    /// A successful request, from which `halo-dev gen` writes `events/<name>.json`.
    pub example: Example,
}

/// A sample request. `{{NAME}}` placeholders stand for what only a live stage knows
/// (a token, an id); tests/api/events.rs and the bench fill them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Example {
    /// A value for every `{param}` of the path template.
    pub path_params: &'static [(&'static str, &'static str)],
    pub query: &'static [(&'static str, &'static str)],
    /// The JSON body, as sent.
    pub body: Option<&'static str>,
}

impl Route {
    pub const fn with_path_params(mut self, params: &'static [(&'static str, &'static str)]) -> Self {
        self.example.path_params = params;
        self
    }

    pub const fn with_query(mut self, query: &'static [(&'static str, &'static str)]) -> Self {
        self.example.query = query;
        self
    }

    pub const fn with_body(mut self, body: &'static str) -> Self {
        self.example.body = Some(body);
        self
    }

    /// The routes of this route's surface that take what it creates by its id: those under
    /// `<path>/{id}`. None unless it is a `POST`.
    pub fn id_routes(&self) -> impl Iterator<Item = &'static Route> + '_ {
        let under = format!("{}/{{id}}", self.path);
        ALL.iter().filter(move |r| {
            self.method == "POST"
                && r.surface == self.surface
                && r.path.strip_prefix(&under).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }

    /// The path of what this route created with `id`, when it has a `GET <path>/{id}` route
    /// (the `Location` of its 201, operations.md §10).
    pub fn location(&self, id: &str) -> Option<String> {
        let read = self.id_routes().find(|r| r.method == "GET" && r.path.ends_with("/{id}"))?;
        Some(read.path.replace("{id}", id))
    }

    /// The path parameters when `path` matches this route's template.
    pub fn match_path(&self, path: &str) -> Option<Vec<(String, String)>> {
        let mut params = Vec::new();
        let mut actual = path.trim_end_matches('/').split('/');
        for expected in self.path.split('/') {
            let segment = actual.next()?;
            match expected.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if !segment.is_empty() => params.push((name.to_owned(), segment.to_owned())),
                Some(_) => return None,
                None if expected == segment => {}
                None => return None,
            }
        }
        actual.next().is_none().then_some(params)
    }
}

const NO_EXAMPLE: Example = Example { path_params: &[], query: &[], body: None };

const fn needs(resource: Resource, action: Action) -> Access {
    Access::ControlCenter(Permission { resource, action })
}

const fn public(name: &'static str, method: &'static str, path: &'static str, access: Access) -> Route {
    Route { name, method, path, surface: Surface::Public, access, example: NO_EXAMPLE }
}

const fn internal(name: &'static str, method: &'static str, path: &'static str, access: Access) -> Route {
    Route { name, method, path, surface: Surface::Internal, access, example: NO_EXAMPLE }
}

pub const CUSTOMER_ANONYMOUS: Route =
    public("customer-anonymous", "POST", "/api/shared/customer/anonymous", Access::Open)
        .with_body(r#"{"display_name":"Angin Malam"}"#);
pub const CUSTOMER_LINK: Route = public("customer-link", "POST", "/api/shared/customer/link", Access::Token)
    .with_body(r#"{"customer_id":"{{CUSTOMER_ID}}","firebase_uid":"{{UID}}"}"#);
pub const CLIENT_AUTH_VERIFY: Route = public("client-auth-verify", "POST", "/api/client/auth/verify", Access::Token);
pub const CLIENT_ACCOUNT_DELETE: Route =
    public("client-account-delete", "DELETE", "/api/client/account", Access::Token);
pub const MITRA_AUTH_VERIFY: Route = public("mitra-auth-verify", "POST", "/api/mitra/auth/verify", Access::Token);
pub const PUBLIC_ANONYMITY_GET: Route =
    public("public-anonymity-get", "GET", "/api/shared/config/anonymity", Access::Token);

pub const INTERNAL_AUTH_VERIFY: Route =
    internal("internal-auth-verify", "POST", "/internal/auth/verify", Access::ControlCenterLogin);
pub const MITRAS_CREATE: Route =
    internal("mitras-create", "POST", "/internal/mitras", needs(Resource::Mitra, Action::Create))
        .with_body(r#"{"phone":"{{PHONE}}","display_name":"Dr. Budi"}"#);
pub const MITRAS_LIST: Route = internal("mitras-list", "GET", "/internal/mitras", needs(Resource::Mitra, Action::Read))
    .with_query(&[("page", "1"), ("limit", "20"), ("is_active", "false")]);
pub const MITRAS_STATUS: Route =
    internal("mitras-status", "PATCH", "/internal/mitras/{id}/status", needs(Resource::Mitra, Action::Update))
        .with_path_params(&[("id", "{{MITRA_ID}}")])
        .with_body(r#"{"is_active":true}"#);
// --- mitra lifecycle (w-mitra) ---
pub const MITRAS_GET: Route =
    internal("mitras-get", "GET", "/internal/mitras/{id}", needs(Resource::Mitra, Action::Read))
        .with_path_params(&[("id", "{{MITRA_ID}}")]);
pub const MITRAS_UPDATE: Route =
    internal("mitras-update", "PATCH", "/internal/mitras/{id}", needs(Resource::Mitra, Action::Update))
        .with_path_params(&[("id", "{{MITRA_ID}}")])
        .with_body(r#"{"display_name":"Dr. Budi Santoso","phone":"{{PHONE}}"}"#);
pub const MITRAS_DELETE: Route =
    internal("mitras-delete", "DELETE", "/internal/mitras/{id}", needs(Resource::Mitra, Action::Delete))
        .with_path_params(&[("id", "{{MITRA_ID}}")]);
pub const MITRAS_REVOKE_SESSIONS: Route = internal(
    "mitras-revoke-sessions",
    "POST",
    "/internal/mitras/{id}/revoke-sessions",
    needs(Resource::Mitra, Action::Update),
)
.with_path_params(&[("id", "{{MITRA_ID}}")]);
// --- end mitra lifecycle ---
pub const CONTROL_CENTER_USERS_CREATE: Route = internal(
    "control-center-users-create",
    "POST",
    "/internal/control-center-users",
    needs(Resource::ControlCenterUsers, Action::Create),
)
.with_body(r#"{"email":"{{EMAIL}}","display_name":"Operator 1","role_id":"{{ROLE_ID}}"}"#);
pub const CONTROL_CENTER_USERS_LIST: Route = internal(
    "control-center-users-list",
    "GET",
    "/internal/control-center-users",
    needs(Resource::ControlCenterUsers, Action::Read),
)
.with_query(&[("page", "1"), ("limit", "20")]);
pub const ROLES_LIST: Route =
    internal("roles-list", "GET", "/internal/roles", needs(Resource::ControlCenterUsers, Action::Read));
pub const ANONYMITY_GET: Route =
    internal("anonymity-get", "GET", "/internal/config/anonymity", needs(Resource::Config, Action::Read));
pub const ANONYMITY_PATCH: Route =
    internal("anonymity-patch", "PATCH", "/internal/config/anonymity", needs(Resource::Config, Action::Update))
        .with_body(r#"{"anonymity_enabled":false}"#);

// --- control-center user lifecycle and audit log (issue 10, sections 2, 4, 5) ---
pub const CONTROL_CENTER_USERS_GET: Route = internal(
    "control-center-users-get",
    "GET",
    "/internal/control-center-users/{id}",
    needs(Resource::ControlCenterUsers, Action::Read),
)
.with_path_params(&[("id", "{{USER_ID}}")]);
pub const CONTROL_CENTER_USERS_UPDATE: Route = internal(
    "control-center-users-update",
    "PATCH",
    "/internal/control-center-users/{id}",
    needs(Resource::ControlCenterUsers, Action::Update),
)
.with_path_params(&[("id", "{{USER_ID}}")])
.with_body(r#"{"display_name":"Operator Satu"}"#);
pub const CONTROL_CENTER_USERS_DELETE: Route = internal(
    "control-center-users-delete",
    "DELETE",
    "/internal/control-center-users/{id}",
    needs(Resource::ControlCenterUsers, Action::Delete),
)
.with_path_params(&[("id", "{{USER_ID}}")]);
pub const CONTROL_CENTER_USERS_REVOKE_SESSIONS: Route = internal(
    "control-center-users-revoke-sessions",
    "POST",
    "/internal/control-center-users/{id}/revoke-sessions",
    needs(Resource::ControlCenterUsers, Action::Update),
)
.with_path_params(&[("id", "{{USER_ID}}")]);
pub const AUDIT_LOG_LIST: Route =
    internal("audit-log-list", "GET", "/internal/audit-log", needs(Resource::AuditLog, Action::Read))
        .with_query(&[("limit", "20")]);
// --- end of issue 10's control-center user and audit routes ---

pub const ALL: [Route; 24] = [
    CUSTOMER_ANONYMOUS,
    CUSTOMER_LINK,
    CLIENT_AUTH_VERIFY,
    CLIENT_ACCOUNT_DELETE,
    MITRA_AUTH_VERIFY,
    PUBLIC_ANONYMITY_GET,
    INTERNAL_AUTH_VERIFY,
    MITRAS_CREATE,
    MITRAS_LIST,
    MITRAS_STATUS,
    CONTROL_CENTER_USERS_CREATE,
    CONTROL_CENTER_USERS_LIST,
    ROLES_LIST,
    ANONYMITY_GET,
    ANONYMITY_PATCH,
    // --- mitra lifecycle (w-mitra) ---
    MITRAS_GET,
    MITRAS_UPDATE,
    MITRAS_DELETE,
    MITRAS_REVOKE_SESSIONS,
    // --- end mitra lifecycle ---
    // --- issue 10: control-center user lifecycle and audit log ---
    CONTROL_CENTER_USERS_GET,
    CONTROL_CENTER_USERS_UPDATE,
    CONTROL_CENTER_USERS_DELETE,
    CONTROL_CENTER_USERS_REVOKE_SESSIONS,
    AUDIT_LOG_LIST,
    // --- end of issue 10's block ---
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_are_extracted_from_templates() {
        let params = MITRAS_STATUS.match_path("/internal/mitras/abc/status").unwrap();
        assert_eq!(params, vec![("id".to_owned(), "abc".to_owned())]);
        assert!(MITRAS_STATUS.match_path("/internal/mitras//status").is_none());
        assert!(MITRAS_STATUS.match_path("/internal/mitras/abc/status/x").is_none());
        assert!(MITRAS_LIST.match_path("/internal/mitras/").is_some());
        assert!(MITRAS_LIST.match_path("/internal/mitrasx").is_none());
    }

    #[test]
    fn a_create_locates_its_resource_by_its_get_route_and_other_routes_locate_nothing() {
        assert_eq!(MITRAS_CREATE.location("m-1").as_deref(), Some("/internal/mitras/m-1"));
        assert_eq!(CONTROL_CENTER_USERS_CREATE.location("u-1").as_deref(), Some("/internal/control-center-users/u-1"));
        assert_eq!(CUSTOMER_ANONYMOUS.location("c-1"), None);
        assert_eq!(MITRAS_LIST.location("m-1"), None);
        let names: Vec<&str> = MITRAS_CREATE.id_routes().map(|r| r.name).collect();
        assert_eq!(names, ["mitras-status", "mitras-get", "mitras-update", "mitras-delete", "mitras-revoke-sessions"]);
    }

    #[test]
    fn route_names_and_method_path_pairs_are_unique() {
        for (i, a) in ALL.iter().enumerate() {
            for b in &ALL[i + 1..] {
                assert_ne!(a.name, b.name);
                assert!(a.method != b.method || a.path != b.path, "{} and {}", a.name, b.name);
            }
        }
    }

    #[test]
    fn every_example_names_exactly_the_path_parameters_of_its_template_and_sends_a_json_body() {
        for route in ALL {
            let in_template: Vec<&str> =
                route.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
            let in_example: Vec<&str> = route.example.path_params.iter().map(|(k, _)| *k).collect();
            assert_eq!(in_example, in_template, "{}", route.name);
            if let Some(body) = route.example.body {
                assert!(body.starts_with('{') && body.ends_with('}'), "{}: {body}", route.name);
            }
        }
    }

    #[test]
    fn internal_routes_all_require_a_control_center_user() {
        for route in ALL.iter().filter(|r| r.surface == Surface::Internal) {
            assert!(matches!(route.access, Access::ControlCenter(_) | Access::ControlCenterLogin), "{}", route.name);
            assert!(route.path.starts_with("/internal/"));
        }
    }
}
