//! Control-center roles: `ROLE#<id>` items. The seeded roles have ids derived
//! from their names, so seeding any number of times yields the same roles.

use aws_sdk_dynamodb::Client;
use uuid::Uuid;

use super::change::{self, Entity, Next, Outcome};
use super::list;
use super::schema::BY_CREATED;
use super::stored::decode;
use super::{CreatedAt, StoreError, get, s};
pub use halo_domain::roles::{Role, seeded_role_id};

pub struct Roles<'a> {
    client: &'a Client,
    table: &'a str,
}

const LIST_PARTITION: &str = "ROLE";

pub(crate) fn role_pk(id: &Uuid) -> String {
    format!("ROLE#{id}")
}

impl<'a> Roles<'a> {
    pub fn new(client: &'a Client, table: &'a str) -> Self {
        Self { client, table }
    }

    pub async fn by_id(&self, id: &Uuid) -> Result<Option<Role>, StoreError> {
        get(self.client, self.table, &role_pk(id)).await?.map(decode).transpose()
    }

    /// Every role, oldest first, however many there are.
    pub async fn all(&self) -> Result<Vec<Role>, StoreError> {
        let items = list::all(self.client, self.table, BY_CREATED, LIST_PARTITION).await?;
        let mut roles = items.into_iter().map(decode).collect::<Result<Vec<Role>, _>>()?;
        roles.reverse();
        Ok(roles)
    }

    /// Creates or refreshes a seeded role; its id and creation instant never change.
    pub async fn upsert(&self, role: &Role) -> Result<Outcome<Role>, StoreError> {
        change::change(self.client, self.table, &role_pk(&role.id), "seeding a role", |read| {
            Ok(match read {
                Some(read) if read.value == *role => Err(Outcome::Unchanged(role.clone())),
                Some(_) => Ok((Next::Update(role.clone()), Vec::new(), role.clone())),
                None => {
                    let created = CreatedAt::now(&role.id);
                    let extra = vec![
                        ("list_pk", s(LIST_PARTITION)),
                        ("list_sk", s(created.sort_key)),
                        ("created_at", s(created.rfc3339)),
                    ];
                    Ok((Next::Create(role.clone(), extra), Vec::new(), role.clone()))
                }
            })
        })
        .await
    }
}

impl Entity for Role {
    fn pk(&self) -> String {
        role_pk(&self.id)
    }
}
