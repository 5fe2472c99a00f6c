//! Every route of both surfaces, with who may call it. This table is the one
//! place a route's permission is written down; the local gateway, the SAM check
//! and the authorization step all read it.

use crate::domain::audit::AuditAction;
use crate::domain::{Action, Permission, Resource};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Public,
    Internal,
}

pub use halo_auth::Access;

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
    /// What a fresh process opens before its first request, so that request finds it warm.
    pub warm_up: WarmUp,
    /// The most storage calls a warm process makes one after another for the example
    /// (tests/api/round_trips.rs counts them at a recording proxy).
    pub round_trips: u8,
    /// The audit record the example writes.
    pub audit: Option<AuditAction>,
}

/// A sample request. `{{NAME}}` placeholders stand for what only a live stage knows
/// (a token, an id); `infra::fixture` stores what `sender` and `given` name and fills them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Example {
    /// A value for every `{param}` of the path template.
    pub path_params: &'static [(&'static str, &'static str)],
    pub query: &'static [(&'static str, &'static str)],
    /// The JSON body, as sent.
    pub body: Option<&'static str>,
    /// Whose token `{{TOKEN}}` is, and what of theirs is stored first.
    pub sender: Sender,
    /// What else is stored first: the example acts on it (`{{MITRA_ID}}`, `{{USER_ID}}`).
    pub given: Given,
    /// The example's status.
    pub status: u16,
}

/// Who sends an example request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// No `Authorization` header.
    Nobody,
    /// An anonymous customer whose uid (`{{UID}}`) is bound to a stored customer (`{{CUSTOMER_ID}}`).
    Customer,
    /// That customer signed in with a phone: a phone token of the bound uid.
    PhoneCustomer,
    /// An active mitra (`{{MITRA_ID}}`), signed in with its registered phone.
    Mitra,
    /// The seeded super admin, bound to its uid by an earlier sign-in.
    SuperAdmin,
    /// The seeded super admin signing in for the first time.
    NewSuperAdmin,
}

/// What an example request acts on, stored before it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Given {
    Nothing,
    /// A mitra, active or not (`{{MITRA_ID}}`).
    Mitra {
        active: bool,
    },
    /// A control-center user with the operator role (`{{USER_ID}}`).
    Operator,
    /// The anonymity flag switched on.
    AnonymityEnabled,
}

/// The storage a fresh process opens before its first request: a connection to a table,
/// the anonymity flag into its cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarmUp {
    pub anonymity_flag: bool,
    pub table: Option<Table>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Customers,
    Mitras,
    ControlCenterUsers,
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

    pub const fn sent_by(mut self, sender: Sender) -> Self {
        self.example.sender = sender;
        self
    }

    pub const fn given(mut self, given: Given) -> Self {
        self.example.given = given;
        self
    }

    pub const fn answers(mut self, status: u16) -> Self {
        self.example.status = status;
        self
    }

    pub const fn warms(mut self, anonymity_flag: bool, table: Option<Table>) -> Self {
        self.warm_up = WarmUp { anonymity_flag, table };
        self
    }

    pub const fn round_trips(mut self, round_trips: u8) -> Self {
        self.round_trips = round_trips;
        self
    }

    pub const fn audits(mut self, action: AuditAction) -> Self {
        self.audit = Some(action);
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

const fn example(sender: Sender) -> Example {
    Example { path_params: &[], query: &[], body: None, sender, given: Given::Nothing, status: 200 }
}

/// A public route's example comes from a customer with a token (none where none is needed);
/// its first request reads the customers table.
const fn public_route(name: &'static str, method: &'static str, path: &'static str, access: Access) -> Route {
    let sender = if matches!(access, Access::Open) { Sender::Nobody } else { Sender::Customer };
    Route {
        name,
        method,
        path,
        surface: Surface::Public,
        access,
        example: example(sender),
        warm_up: WarmUp { anonymity_flag: false, table: Some(Table::Customers) },
        round_trips: 3,
        audit: None,
    }
}

/// An internal route's example comes from the super admin; every internal request first
/// reads its caller's control-center user.
const fn internal_route(name: &'static str, method: &'static str, path: &'static str, access: Access) -> Route {
    Route {
        name,
        method,
        path,
        surface: Surface::Internal,
        access,
        example: example(Sender::SuperAdmin),
        warm_up: WarmUp { anonymity_flag: false, table: Some(Table::ControlCenterUsers) },
        round_trips: 3,
        audit: None,
    }
}

const fn needs(resource: Resource, action: Action) -> Access {
    Access::ControlCenter(Permission { resource, action })
}

pub const CUSTOMER_ANONYMOUS: Route =
    public_route("customer-anonymous", "POST", "/api/shared/customer/anonymous", Access::Open)
        .with_body(r#"{"display_name":"Angin Malam"}"#)
        .answers(201)
        .round_trips(1);
pub const CUSTOMER_LINK: Route = public_route("customer-link", "POST", "/api/shared/customer/link", Access::Token)
    .with_body(r#"{"customer_id":"{{CUSTOMER_ID}}","firebase_uid":"{{UID}}"}"#)
    .sent_by(Sender::PhoneCustomer)
    .round_trips(2);
pub const CLIENT_AUTH_VERIFY: Route =
    public_route("client-auth-verify", "POST", "/api/client/auth/verify", Access::Token).round_trips(2);
pub const CLIENT_ACCOUNT_DELETE: Route =
    public_route("client-account-delete", "DELETE", "/api/client/account", Access::Token);
/// A mitra's first sign-in: its phone's claim, the mitra, the uid's claim, then the binding.
pub const MITRA_AUTH_VERIFY: Route = public_route("mitra-auth-verify", "POST", "/api/mitra/auth/verify", Access::Token)
    .sent_by(Sender::Mitra)
    .warms(false, Some(Table::Mitras))
    .round_trips(4);
/// Served from the flag the process cached at start: no storage call at all.
pub const PUBLIC_ANONYMITY_GET: Route =
    public_route("public-anonymity-get", "GET", "/api/shared/config/anonymity", Access::Token)
        .warms(true, None)
        .round_trips(0);

pub const INTERNAL_AUTH_VERIFY: Route =
    internal_route("internal-auth-verify", "POST", "/internal/auth/verify", Access::ControlCenterLogin)
        .sent_by(Sender::NewSuperAdmin)
        .audits(AuditAction::ControlCenterUserBind)
        .round_trips(1);
pub const MITRAS_CREATE: Route =
    internal_route("mitras-create", "POST", "/internal/mitras", needs(Resource::Mitra, Action::Create))
        .with_body(r#"{"phone":"{{PHONE}}","display_name":"Dr. Budi"}"#)
        .answers(201)
        .audits(AuditAction::MitraCreate)
        .round_trips(2);
/// Page keys beside the counter, then the page's items.
pub const MITRAS_LIST: Route =
    internal_route("mitras-list", "GET", "/internal/mitras", needs(Resource::Mitra, Action::Read))
        .with_query(&[("page", "1"), ("limit", "20"), ("is_active", "false")])
        .given(Given::Mitra { active: false });
/// The mitra read, then its write conditioned on the version read.
pub const MITRAS_STATUS: Route =
    internal_route("mitras-status", "PATCH", "/internal/mitras/{id}/status", needs(Resource::Mitra, Action::Update))
        .with_path_params(&[("id", "{{MITRA_ID}}")])
        .with_body(r#"{"is_active":true}"#)
        .given(Given::Mitra { active: false })
        .audits(AuditAction::MitraStatus);
pub const MITRAS_GET: Route =
    internal_route("mitras-get", "GET", "/internal/mitras/{id}", needs(Resource::Mitra, Action::Read))
        .with_path_params(&[("id", "{{MITRA_ID}}")])
        .given(Given::Mitra { active: true })
        .round_trips(2);
pub const MITRAS_UPDATE: Route =
    internal_route("mitras-update", "PATCH", "/internal/mitras/{id}", needs(Resource::Mitra, Action::Update))
        .with_path_params(&[("id", "{{MITRA_ID}}")])
        .with_body(r#"{"display_name":"Dr. Budi Santoso","phone":"{{PHONE}}"}"#)
        .given(Given::Mitra { active: false })
        .audits(AuditAction::MitraUpdate);
pub const MITRAS_DELETE: Route =
    internal_route("mitras-delete", "DELETE", "/internal/mitras/{id}", needs(Resource::Mitra, Action::Delete))
        .with_path_params(&[("id", "{{MITRA_ID}}")])
        .given(Given::Mitra { active: true })
        .audits(AuditAction::MitraDelete);
pub const MITRAS_REVOKE_SESSIONS: Route = internal_route(
    "mitras-revoke-sessions",
    "POST",
    "/internal/mitras/{id}/revoke-sessions",
    needs(Resource::Mitra, Action::Update),
)
.with_path_params(&[("id", "{{MITRA_ID}}")])
.given(Given::Mitra { active: true })
.audits(AuditAction::MitraRevokeSessions);
pub const CONTROL_CENTER_USERS_CREATE: Route = internal_route(
    "control-center-users-create",
    "POST",
    "/internal/control-center-users",
    needs(Resource::ControlCenterUsers, Action::Create),
)
.with_body(r#"{"email":"{{EMAIL}}","display_name":"Operator 1","role_id":"{{ROLE_ID}}"}"#)
.answers(201)
.audits(AuditAction::ControlCenterUserCreate);
pub const CONTROL_CENTER_USERS_LIST: Route = internal_route(
    "control-center-users-list",
    "GET",
    "/internal/control-center-users",
    needs(Resource::ControlCenterUsers, Action::Read),
)
.with_query(&[("page", "1"), ("limit", "20")])
.given(Given::Operator);
pub const ROLES_LIST: Route =
    internal_route("roles-list", "GET", "/internal/roles", needs(Resource::ControlCenterUsers, Action::Read));
/// The flag from the process's cache.
pub const ANONYMITY_GET: Route =
    internal_route("anonymity-get", "GET", "/internal/config/anonymity", needs(Resource::Config, Action::Read))
        .warms(true, Some(Table::ControlCenterUsers))
        .round_trips(1);
/// SSM orders the flag's writes: the write, then its history (the value it replaced), then
/// the record. The one route over three, for records that are exact.
pub const ANONYMITY_PATCH: Route =
    internal_route("anonymity-patch", "PATCH", "/internal/config/anonymity", needs(Resource::Config, Action::Update))
        .with_body(r#"{"anonymity_enabled":false}"#)
        .given(Given::AnonymityEnabled)
        .audits(AuditAction::ConfigAnonymityUpdate)
        .round_trips(4);
/// The user and its role in one batch.
pub const CONTROL_CENTER_USERS_GET: Route = internal_route(
    "control-center-users-get",
    "GET",
    "/internal/control-center-users/{id}",
    needs(Resource::ControlCenterUsers, Action::Read),
)
.with_path_params(&[("id", "{{USER_ID}}")])
.given(Given::Operator)
.round_trips(2);
pub const CONTROL_CENTER_USERS_UPDATE: Route = internal_route(
    "control-center-users-update",
    "PATCH",
    "/internal/control-center-users/{id}",
    needs(Resource::ControlCenterUsers, Action::Update),
)
.with_path_params(&[("id", "{{USER_ID}}")])
.with_body(r#"{"display_name":"Operator Satu"}"#)
.given(Given::Operator)
.audits(AuditAction::ControlCenterUserUpdate);
pub const CONTROL_CENTER_USERS_DELETE: Route = internal_route(
    "control-center-users-delete",
    "DELETE",
    "/internal/control-center-users/{id}",
    needs(Resource::ControlCenterUsers, Action::Delete),
)
.with_path_params(&[("id", "{{USER_ID}}")])
.given(Given::Operator)
.audits(AuditAction::ControlCenterUserDelete);
pub const CONTROL_CENTER_USERS_REVOKE_SESSIONS: Route = internal_route(
    "control-center-users-revoke-sessions",
    "POST",
    "/internal/control-center-users/{id}/revoke-sessions",
    needs(Resource::ControlCenterUsers, Action::Update),
)
.with_path_params(&[("id", "{{USER_ID}}")])
.given(Given::Operator)
.audits(AuditAction::ControlCenterUserRevokeSessions);
pub const AUDIT_LOG_LIST: Route =
    internal_route("audit-log-list", "GET", "/internal/audit-log", needs(Resource::AuditLog, Action::Read))
        .with_query(&[("limit", "20")]);

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
    MITRAS_GET,
    MITRAS_UPDATE,
    MITRAS_DELETE,
    MITRAS_REVOKE_SESSIONS,
    CONTROL_CENTER_USERS_GET,
    CONTROL_CENTER_USERS_UPDATE,
    CONTROL_CENTER_USERS_DELETE,
    CONTROL_CENTER_USERS_REVOKE_SESSIONS,
    AUDIT_LOG_LIST,
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
    fn every_audit_action_is_written_by_exactly_one_route() {
        for action in AuditAction::ALL {
            let writers: Vec<&str> = ALL.iter().filter(|r| r.audit == Some(*action)).map(|r| r.name).collect();
            assert_eq!(writers.len(), 1, "{}: {writers:?}", action.as_str());
        }
    }

    #[test]
    fn an_example_fills_only_placeholders_its_sender_and_given_provide() {
        for route in ALL {
            let example = route.example;
            let mut text: String = example.path_params.iter().map(|(_, v)| *v).collect();
            text.extend(example.query.iter().map(|(_, v)| *v));
            text.push_str(example.body.unwrap_or_default());
            let needs = |name: &str| text.contains(&format!("{{{{{name}}}}}"));
            let customer = matches!(example.sender, Sender::Customer | Sender::PhoneCustomer);
            assert!(!needs("CUSTOMER_ID") && !needs("UID") || customer, "{}", route.name);
            assert!(!needs("MITRA_ID") || matches!(example.given, Given::Mitra { .. }), "{}", route.name);
            assert!(!needs("USER_ID") || example.given == Given::Operator, "{}", route.name);
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
