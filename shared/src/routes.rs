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
}

impl Route {
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

const fn needs(resource: Resource, action: Action) -> Access {
    Access::ControlCenter(Permission { resource, action })
}

const fn public(name: &'static str, method: &'static str, path: &'static str, access: Access) -> Route {
    Route { name, method, path, surface: Surface::Public, access }
}

const fn internal(name: &'static str, method: &'static str, path: &'static str, access: Access) -> Route {
    Route { name, method, path, surface: Surface::Internal, access }
}

pub const CUSTOMER_ANONYMOUS: Route =
    public("customer-anonymous", "POST", "/api/shared/customer/anonymous", Access::Open);
pub const CUSTOMER_LINK: Route = public("customer-link", "POST", "/api/shared/customer/link", Access::Token);
pub const CLIENT_AUTH_VERIFY: Route = public("client-auth-verify", "POST", "/api/client/auth/verify", Access::Token);
pub const MITRA_AUTH_VERIFY: Route = public("mitra-auth-verify", "POST", "/api/mitra/auth/verify", Access::Token);
pub const PUBLIC_ANONYMITY_GET: Route =
    public("public-anonymity-get", "GET", "/api/shared/config/anonymity", Access::Token);

pub const INTERNAL_AUTH_VERIFY: Route =
    internal("internal-auth-verify", "POST", "/internal/auth/verify", Access::ControlCenterLogin);
pub const MITRAS_CREATE: Route =
    internal("mitras-create", "POST", "/internal/mitras", needs(Resource::Mitra, Action::Create));
pub const MITRAS_LIST: Route = internal("mitras-list", "GET", "/internal/mitras", needs(Resource::Mitra, Action::Read));
pub const MITRAS_STATUS: Route =
    internal("mitras-status", "PATCH", "/internal/mitras/{id}/status", needs(Resource::Mitra, Action::Update));
pub const STAFF_CREATE: Route = internal(
    "control-center-users-create",
    "POST",
    "/internal/control-center-users",
    needs(Resource::ControlCenterUsers, Action::Create),
);
pub const STAFF_LIST: Route = internal(
    "control-center-users-list",
    "GET",
    "/internal/control-center-users",
    needs(Resource::ControlCenterUsers, Action::Read),
);
pub const ROLES_LIST: Route =
    internal("roles-list", "GET", "/internal/roles", needs(Resource::ControlCenterUsers, Action::Read));
pub const ANONYMITY_GET: Route =
    internal("anonymity-get", "GET", "/internal/config/anonymity", needs(Resource::Config, Action::Read));
pub const ANONYMITY_PATCH: Route =
    internal("anonymity-patch", "PATCH", "/internal/config/anonymity", needs(Resource::Config, Action::Update));

pub const ALL: [Route; 14] = [
    CUSTOMER_ANONYMOUS,
    CUSTOMER_LINK,
    CLIENT_AUTH_VERIFY,
    MITRA_AUTH_VERIFY,
    PUBLIC_ANONYMITY_GET,
    INTERNAL_AUTH_VERIFY,
    MITRAS_CREATE,
    MITRAS_LIST,
    MITRAS_STATUS,
    STAFF_CREATE,
    STAFF_LIST,
    ROLES_LIST,
    ANONYMITY_GET,
    ANONYMITY_PATCH,
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
    fn route_names_and_method_path_pairs_are_unique() {
        for (i, a) in ALL.iter().enumerate() {
            for b in &ALL[i + 1..] {
                assert_ne!(a.name, b.name);
                assert!(a.method != b.method || a.path != b.path, "{} and {}", a.name, b.name);
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
