//! Inputs several endpoints share: list pages and the mitra id in a path.

use schemars::JsonSchema;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::ListQuery;
use crate::endpoint::QueryParams;
use crate::error::ApiError;
use crate::schema;

/// `page` and `limit` of a list.
#[derive(Debug)]
pub struct Page(pub ListQuery);

#[derive(JsonSchema)]
pub struct PageParams {
    #[serde(default)]
    #[schemars(schema_with = "schema::page_number")]
    pub page: u32,
    #[serde(default)]
    #[schemars(schema_with = "schema::page_limit")]
    pub limit: u32,
}

impl QueryParams for Page {
    type Doc = PageParams;
    fn parse<'r>(get: impl Fn(&str) -> Option<&'r str>) -> Result<Self, ApiError> {
        Ok(Page(ListQuery::parse(get, false)?))
    }
}

/// A page of mitras, optionally only the active or inactive ones.
#[derive(Debug)]
pub struct MitraPage(pub ListQuery);

#[derive(JsonSchema)]
pub struct MitraPageParams {
    #[serde(flatten)]
    pub page: PageParams,
    /// Only active (`true`) or inactive (`false`) mitras.
    #[serde(default)]
    pub is_active: bool,
}

impl QueryParams for MitraPage {
    type Doc = MitraPageParams;
    fn parse<'r>(get: impl Fn(&str) -> Option<&'r str>) -> Result<Self, ApiError> {
        Ok(MitraPage(ListQuery::parse(get, true)?))
    }
}

/// `{id}` in a mitra's path.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct MitraId {
    /// The mitra's id.
    #[schemars(schema_with = "schema::id_input")]
    #[serde(deserialize_with = "canonical_uuid")]
    pub id: Uuid,
}

/// `{id}` in a control-center user's path.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ControlCenterUserId {
    /// The control-center user's id.
    #[schemars(schema_with = "schema::id_input")]
    #[serde(deserialize_with = "canonical_uuid")]
    pub id: Uuid,
}

/// A path's id in the canonical hyphenated form only (`Uuid`'s own `Deserialize` also takes
/// braces, `urn:uuid:` and the bare digits).
pub fn canonical_uuid<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Uuid, D::Error> {
    let raw = String::deserialize(d)?;
    crate::domain::parse_uuid(&raw).map_err(|e| serde::de::Error::custom(e.message()))
}
