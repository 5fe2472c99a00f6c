//! Control-center roles: `ROLE#<id>` items. The seeded roles have ids derived
//! from their names, so seeding any number of times yields the same roles.

use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::list;
use super::schema::BY_CREATED;
use super::stored::decode;
use super::{CreatedAt, StoreError, classify, get, s, to_item};
use crate::domain::Permissions;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: Uuid,
    pub name: String,
    pub permissions: Permissions,
}

pub struct Roles<'a> {
    client: &'a Client,
    table: &'a str,
}

const LIST_PARTITION: &str = "ROLE";

pub(crate) fn role_pk(id: &Uuid) -> String {
    format!("ROLE#{id}")
}

/// The id a seeded role always has.
pub fn seeded_role_id(name: &str) -> Uuid {
    const NAMESPACE: Uuid = uuid::uuid!("5a1e6b1e-7c1a-4d8e-9a57-1b2c3d4e5f60");
    Uuid::new_v5(&NAMESPACE, name.as_bytes())
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
    pub async fn upsert(&self, role: &Role) -> Result<(), StoreError> {
        let created = CreatedAt::now(&role.id);
        let permissions = to_item(&serde_json::json!({ "p": role.permissions }))?.remove("p").unwrap_or_else(|| s(""));
        self.client
            .update_item()
            .table_name(self.table)
            .key("pk", s(role_pk(&role.id)))
            .update_expression(
                "SET #id = :id, #name = :name, #permissions = :permissions, #list_pk = :list_pk, \
                 #list_sk = if_not_exists(#list_sk, :list_sk), #created_at = if_not_exists(#created_at, :created_at)",
            )
            .expression_attribute_names("#id", "id")
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#permissions", "permissions")
            .expression_attribute_names("#list_pk", "list_pk")
            .expression_attribute_names("#list_sk", "list_sk")
            .expression_attribute_names("#created_at", "created_at")
            .expression_attribute_values(":id", s(role.id.to_string()))
            .expression_attribute_values(":name", s(&role.name))
            .expression_attribute_values(":permissions", permissions)
            .expression_attribute_values(":list_pk", s(LIST_PARTITION))
            .expression_attribute_values(":list_sk", s(created.sort_key))
            .expression_attribute_values(":created_at", s(created.rfc3339))
            .send()
            .await
            .map_err(|e| classify(e, "seeding a role"))?;
        Ok(())
    }
}
