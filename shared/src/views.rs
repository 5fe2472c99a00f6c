//! The exact `data` shapes of the contract's responses. Their schemas in the OpenAPI
//! specs are derived from these types (`schemars`), so the two cannot disagree.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::Permissions;
use crate::schema;
use crate::store::control_center_users::ControlCenterUser;
use crate::store::customers::Customer;
use crate::store::mitras::Mitra;
use crate::store::roles::Role;

/// `POST /api/shared/customer/anonymous`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NewCustomer {
    #[schemars(schema_with = "schema::id")]
    pub id: Uuid,
    #[schemars(schema_with = "schema::customer_name")]
    pub display_name: String,
    pub is_anonymous: bool,
    #[schemars(schema_with = "schema::timestamp")]
    pub created_at: String,
}

impl From<&Customer> for NewCustomer {
    fn from(c: &Customer) -> Self {
        Self {
            id: c.id,
            display_name: c.display_name.as_str().to_owned(),
            is_anonymous: c.is_anonymous,
            created_at: c.created_at.clone(),
        }
    }
}

/// Link and client verify: the profile, with `email` added when known.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CustomerProfile {
    #[schemars(schema_with = "schema::id")]
    pub id: Uuid,
    #[schemars(schema_with = "schema::customer_name")]
    pub display_name: String,
    pub is_anonymous: bool,
    #[schemars(schema_with = "schema::customer_phone")]
    pub phone: Option<String>,
    /// Present when a social login with an email is linked.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "customer@example.com")]
    pub email: Option<String>,
    #[schemars(schema_with = "schema::timestamp")]
    pub created_at: String,
}

impl From<&Customer> for CustomerProfile {
    fn from(c: &Customer) -> Self {
        let NewCustomer { id, display_name, is_anonymous, created_at } = c.into();
        let phone = c.phone.as_ref().map(|p| p.as_str().to_owned());
        let email = c.email.as_ref().map(|e| e.as_str().to_owned());
        Self { id, display_name, is_anonymous, phone, email, created_at }
    }
}

/// A mitra, as the mitra app and the control center see it.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "Mitra")]
pub struct MitraView {
    #[schemars(schema_with = "schema::id")]
    pub id: Uuid,
    #[schemars(schema_with = "schema::phone")]
    pub phone: String,
    #[schemars(schema_with = "schema::display_name")]
    pub display_name: String,
    pub is_active: bool,
    #[schemars(schema_with = "schema::timestamp")]
    pub created_at: String,
}

impl From<&Mitra> for MitraView {
    fn from(m: &Mitra) -> Self {
        Self {
            id: m.id,
            phone: m.phone.as_str().to_owned(),
            display_name: m.display_name.as_str().to_owned(),
            is_active: m.is_active,
            created_at: m.created_at.clone(),
        }
    }
}

/// A mitra's id and whether it is active.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MitraStatus {
    #[schemars(schema_with = "schema::id")]
    pub id: Uuid,
    pub is_active: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "Role")]
pub struct RoleView {
    #[schemars(schema_with = "schema::id")]
    pub id: Uuid,
    #[schemars(schema_with = "schema::role_name")]
    pub name: String,
    pub permissions: Permissions,
}

impl From<&Role> for RoleView {
    fn from(r: &Role) -> Self {
        Self { id: r.id, name: r.name.clone(), permissions: r.permissions.clone() }
    }
}

/// A control-center user's role, by id and name.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "RoleRef")]
pub struct RoleName {
    #[schemars(schema_with = "schema::id")]
    pub id: Uuid,
    #[schemars(schema_with = "schema::role_name")]
    pub name: String,
}

/// A control-center user in create and list answers: the role by id and name.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "ControlCenterUser")]
pub struct ControlCenterUserView {
    #[schemars(schema_with = "schema::id")]
    pub id: Uuid,
    #[schemars(schema_with = "schema::email")]
    pub email: String,
    #[schemars(schema_with = "schema::display_name")]
    pub display_name: String,
    pub role: RoleName,
    pub is_active: bool,
    #[schemars(schema_with = "schema::timestamp")]
    pub created_at: String,
}

impl ControlCenterUserView {
    pub fn new(user: &ControlCenterUser, role_name: &str) -> Self {
        Self {
            id: user.id,
            email: user.email.as_str().to_owned(),
            display_name: user.display_name.as_str().to_owned(),
            role: RoleName { id: user.role_id, name: role_name.to_owned() },
            is_active: user.is_active,
            created_at: user.created_at.clone(),
        }
    }
}

/// The role name a listed user shows when their role no longer exists. Roles are only
/// written by the seed, so this means one was deleted by hand: the user stays in the list
/// (so `total` holds) with the stale role id, and this name tells an admin to reassign them.
pub const MISSING_ROLE_NAME: &str = "(role not found)";

/// Control-center users as a list shows them, each with its role's name from `roles`.
/// A user whose role is not among `roles` gets [`MISSING_ROLE_NAME`] and is logged at
/// error level with the user and role ids.
pub fn control_center_user_list(users: &[ControlCenterUser], roles: &[Role]) -> Vec<ControlCenterUserView> {
    let names: HashMap<Uuid, &str> = roles.iter().map(|r| (r.id, r.name.as_str())).collect();
    let name_of = |user: &ControlCenterUser| {
        names.get(&user.role_id).copied().unwrap_or_else(|| {
            tracing::error!(user_id = %user.id, role_id = %user.role_id, "control-center user has a role that does not exist");
            MISSING_ROLE_NAME
        })
    };
    users.iter().map(|user| ControlCenterUserView::new(user, name_of(user))).collect()
}

/// `POST /internal/auth/verify`: the caller with their role's permissions.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "ControlCenterUserProfile")]
pub struct ControlCenterUserProfile {
    #[schemars(schema_with = "schema::id")]
    pub id: Uuid,
    #[schemars(schema_with = "schema::email")]
    pub email: String,
    #[schemars(schema_with = "schema::display_name")]
    pub display_name: String,
    pub role: RoleView,
}

/// A page of a list.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "{T}Page")]
pub struct ListPage<T> {
    #[schemars(extend("maxItems" = crate::domain::ListQuery::MAX_LIMIT))]
    pub items: Vec<T>,
    #[schemars(schema_with = "schema::total")]
    pub total: u64,
    #[schemars(range(min = 1))]
    pub page: u32,
    #[schemars(range(min = 1, max = crate::domain::ListQuery::MAX_LIMIT))]
    pub limit: u32,
}

impl<T> ListPage<T> {
    pub fn new(items: Vec<T>, total: u64, query: &crate::domain::ListQuery) -> Self {
        Self { items, total, page: query.page, limit: query.limit }
    }
}

/// `{ "id": "…", "deleted": true }`: what a DELETE answers.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Deleted {
    #[schemars(schema_with = "schema::id")]
    pub id: Uuid,
    #[schemars(extend("enum" = [true]))]
    pub deleted: bool,
}

/// From when the account's tokens are valid again: what `revoke-sessions` answers.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SessionsRevoked {
    #[schemars(schema_with = "schema::id")]
    pub id: Uuid,
    #[schemars(schema_with = "schema::timestamp")]
    pub tokens_valid_after: String,
}

impl SessionsRevoked {
    /// Revoked as of `unix` (epoch seconds), answered in RFC 3339.
    pub fn at(id: Uuid, unix: i64) -> Self {
        Self { id, tokens_valid_after: crate::store::control_center_users::tokens_valid_after_rfc3339(unix) }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Anonymity {
    pub anonymity_enabled: bool,
}
