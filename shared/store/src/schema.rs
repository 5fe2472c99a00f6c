//! The one definition of the tables. The local set-up creates them from here,
//! and the SAM template is checked against it.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};

use super::{StoreError, classify};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexDef {
    pub name: &'static str,
    pub partition_key: &'static str,
    pub sort_key: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDef {
    /// The logical name; the physical table is `<prefix>-<suffix>`.
    pub suffix: &'static str,
    pub partition_key: &'static str,
    pub indexes: &'static [IndexDef],
}

/// Newest-first listing: partition `list_pk` (one value per entity kind), sort `list_sk` (creation ms + id).
pub const BY_CREATED: IndexDef = IndexDef { name: "by_created", partition_key: "list_pk", sort_key: "list_sk" };
/// Newest-first listing within one status (`MITRA#ACTIVE` / `MITRA#INACTIVE`).
pub const BY_STATUS: IndexDef = IndexDef { name: "by_status", partition_key: "status_pk", sort_key: "list_sk" };

/// The audit log's filters, each newest first.
pub const BY_ACTOR: IndexDef = IndexDef { name: "by_actor", partition_key: "actor_pk", sort_key: "list_sk" };
pub const BY_TARGET: IndexDef = IndexDef { name: "by_target", partition_key: "target_pk", sort_key: "list_sk" };
pub const BY_ACTION: IndexDef = IndexDef { name: "by_action", partition_key: "action_pk", sort_key: "list_sk" };
/// Two or three filters at once, each combination its own partition, so every query is one key condition.
pub const BY_ACTOR_TARGET: IndexDef =
    IndexDef { name: "by_actor_target", partition_key: "actor_target_pk", sort_key: "list_sk" };
pub const BY_ACTOR_ACTION: IndexDef =
    IndexDef { name: "by_actor_action", partition_key: "actor_action_pk", sort_key: "list_sk" };
pub const BY_TARGET_ACTION: IndexDef =
    IndexDef { name: "by_target_action", partition_key: "target_action_pk", sort_key: "list_sk" };
pub const BY_ACTOR_TARGET_ACTION: IndexDef =
    IndexDef { name: "by_actor_target_action", partition_key: "actor_target_action_pk", sort_key: "list_sk" };

pub const CUSTOMERS: TableDef = TableDef { suffix: "customers", partition_key: "pk", indexes: &[] };
pub const MITRAS: TableDef = TableDef { suffix: "mitras", partition_key: "pk", indexes: &[BY_CREATED, BY_STATUS] };
pub const CONTROL_CENTER_USERS: TableDef =
    TableDef { suffix: "control-center-users", partition_key: "pk", indexes: &[BY_CREATED] };
pub const ROLES: TableDef = TableDef { suffix: "roles", partition_key: "pk", indexes: &[BY_CREATED] };

pub const AUDIT_LOG: TableDef = TableDef {
    suffix: "audit-log",
    partition_key: "pk",
    indexes: &[
        BY_CREATED,
        BY_ACTOR,
        BY_TARGET,
        BY_ACTION,
        BY_ACTOR_TARGET,
        BY_ACTOR_ACTION,
        BY_TARGET_ACTION,
        BY_ACTOR_TARGET_ACTION,
    ],
};

pub const ALL: [TableDef; 5] = [CUSTOMERS, MITRAS, CONTROL_CENTER_USERS, ROLES, AUDIT_LOG];

/// Physical table names for one stage.
#[derive(Debug, Clone)]
pub struct Tables {
    pub customers: String,
    pub mitras: String,
    pub control_center_users: String,
    pub roles: String,
    pub audit_log: String,
}

impl Tables {
    pub fn new(prefix: &str) -> Self {
        let name = |t: TableDef| format!("{prefix}-{}", t.suffix);
        Self {
            customers: name(CUSTOMERS),
            mitras: name(MITRAS),
            control_center_users: name(CONTROL_CENTER_USERS),
            roles: name(ROLES),
            audit_log: name(AUDIT_LOG),
        }
    }
}

/// Creates any missing table with its indexes; existing tables are left alone.
pub async fn ensure_tables(client: &Client, prefix: &str) -> Result<(), StoreError> {
    for table in ALL {
        let name = format!("{prefix}-{}", table.suffix);
        match create_table(client, &name, table).await {
            Ok(()) => tracing::info!(table = %name, "created table"),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {}
            Err(e) => return Err(classify(e, "creating a table")),
        }
    }
    Ok(())
}

async fn create_table(
    client: &Client,
    name: &str,
    table: TableDef,
) -> Result<(), aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::create_table::CreateTableError>> {
    let string_attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("name and type are set")
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder().attribute_name(n).key_type(t).build().expect("name and type are set")
    };
    let mut attributes = vec![table.partition_key];
    for index in table.indexes {
        for a in [index.partition_key, index.sort_key] {
            if !attributes.contains(&a) {
                attributes.push(a);
            }
        }
    }
    let indexes = table.indexes.iter().map(|index| {
        GlobalSecondaryIndex::builder()
            .index_name(index.name)
            .key_schema(key(index.partition_key, KeyType::Hash))
            .key_schema(key(index.sort_key, KeyType::Range))
            .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
            .build()
            .expect("index fields are set")
    });
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes.into_iter().map(string_attr).collect()))
        .key_schema(key(table.partition_key, KeyType::Hash))
        .set_global_secondary_indexes((!table.indexes.is_empty()).then(|| indexes.collect()))
        .send()
        .await
        .map(|_| ())
}
