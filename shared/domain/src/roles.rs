//! Control-center roles, and the two Phase 1 seeds. A seeded role's id is derived from its
//! name, so seeding any number of times yields the same roles, and authorization can name
//! them without reading or seeding anything.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Action, Permissions, Resource};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: Uuid,
    pub name: String,
    pub permissions: Permissions,
}

/// The id a seeded role always has.
pub fn seeded_role_id(name: &str) -> Uuid {
    const NAMESPACE: Uuid = uuid::uuid!("5a1e6b1e-7c1a-4d8e-9a57-1b2c3d4e5f60");
    Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

/// The role whose active holders must never drop to zero.
pub fn super_admin_role_id() -> Uuid {
    seeded_role_id("super_admin")
}

pub fn super_admin_role() -> Role {
    use Action::*;
    Role {
        id: super_admin_role_id(),
        name: "super_admin".into(),
        permissions: Permissions::new(&[
            (Resource::Mitra, &[Create, Read, Update, Delete]),
            (Resource::ControlCenterUsers, &[Create, Read, Update, Delete]),
            (Resource::Config, &[Read, Update]),
            (Resource::AuditLog, &[Read]),
        ]),
    }
}

pub fn operator_role() -> Role {
    use Action::*;
    Role {
        id: seeded_role_id("operator"),
        name: "operator".into(),
        permissions: Permissions::new(&[(Resource::Mitra, &[Create, Read, Update]), (Resource::Config, &[Read])]),
    }
}

/// Every seeded role.
pub fn seeded_roles() -> [Role; 2] {
    [super_admin_role(), operator_role()]
}
