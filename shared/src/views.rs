//! The exact `data` shapes of the contract's responses.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use crate::domain::{Email, Permissions, Phone};
use crate::store::customers::Customer;
use crate::store::mitras::Mitra;
use crate::store::roles::Role;
use crate::store::staff::ControlCenterUser;

/// `POST /api/shared/customer/anonymous`.
#[derive(Debug, Serialize)]
pub struct NewCustomer<'a> {
    pub id: Uuid,
    pub display_name: &'a str,
    pub is_anonymous: bool,
    pub created_at: &'a str,
}

impl<'a> From<&'a Customer> for NewCustomer<'a> {
    fn from(c: &'a Customer) -> Self {
        Self {
            id: c.id,
            display_name: c.display_name.as_str(),
            is_anonymous: c.is_anonymous,
            created_at: &c.created_at,
        }
    }
}

/// Link and client verify: the profile, with `email` added when known.
#[derive(Debug, Serialize)]
pub struct CustomerProfile<'a> {
    pub id: Uuid,
    pub display_name: &'a str,
    pub is_anonymous: bool,
    pub phone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'a str>,
    pub created_at: &'a str,
}

impl<'a> From<&'a Customer> for CustomerProfile<'a> {
    fn from(c: &'a Customer) -> Self {
        Self {
            id: c.id,
            display_name: c.display_name.as_str(),
            is_anonymous: c.is_anonymous,
            phone: c.phone.as_ref().map(Phone::as_str),
            email: c.email.as_ref().map(Email::as_str),
            created_at: &c.created_at,
        }
    }
}

/// A mitra, as the mitra app and the control center see it.
#[derive(Debug, Serialize)]
pub struct MitraView<'a> {
    pub id: Uuid,
    pub phone: &'a str,
    pub display_name: &'a str,
    pub is_active: bool,
    pub created_at: &'a str,
}

impl<'a> From<&'a Mitra> for MitraView<'a> {
    fn from(m: &'a Mitra) -> Self {
        Self {
            id: m.id,
            phone: m.phone.as_str(),
            display_name: m.display_name.as_str(),
            is_active: m.is_active,
            created_at: &m.created_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct RoleView<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub permissions: &'a Permissions,
}

impl<'a> From<&'a Role> for RoleView<'a> {
    fn from(r: &'a Role) -> Self {
        Self { id: r.id, name: &r.name, permissions: &r.permissions }
    }
}

#[derive(Debug, Serialize)]
pub struct RoleName<'a> {
    pub id: Uuid,
    pub name: &'a str,
}

/// A control-center user in create and list answers: the role by id and name.
#[derive(Debug, Serialize)]
pub struct StaffView<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: RoleName<'a>,
    pub created_at: &'a str,
}

impl<'a> StaffView<'a> {
    pub fn new(user: &'a ControlCenterUser, role_name: &'a str) -> Self {
        Self {
            id: user.id,
            email: user.email.as_str(),
            display_name: user.display_name.as_str(),
            role: RoleName { id: user.role_id, name: role_name },
            created_at: &user.created_at,
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
pub fn staff_list<'a>(users: &'a [ControlCenterUser], roles: &'a [Role]) -> Vec<StaffView<'a>> {
    let names: HashMap<Uuid, &str> = roles.iter().map(|r| (r.id, r.name.as_str())).collect();
    let name_of = |user: &ControlCenterUser| {
        names.get(&user.role_id).copied().unwrap_or_else(|| {
            tracing::error!(user_id = %user.id, role_id = %user.role_id, "control-center user has a role that does not exist");
            MISSING_ROLE_NAME
        })
    };
    users.iter().map(|user| StaffView::new(user, name_of(user))).collect()
}

/// `POST /internal/auth/verify`: the caller with their role's permissions.
#[derive(Debug, Serialize)]
pub struct StaffProfile<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: RoleView<'a>,
}

/// A page of a list.
#[derive(Debug, Serialize)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub limit: u32,
}

#[derive(Debug, Serialize)]
pub struct Anonymity {
    pub anonymity_enabled: bool,
}
