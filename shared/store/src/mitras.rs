//! Mitras: `MITRA#<id>` items with a `PHONE#<e164>` claim each, and a `COUNTER`
//! item (`total`, `active`, `inactive`) moved in the same transaction as every write.
//! Every write goes through [`crate::change`].

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::audit::{Audit, AuditAction, Target};
use super::change::{self, Also, Conflict, Decided, Entity, Next, Outcome, Read};
use super::list::bump_counters;
use super::list::{self, counter};
use super::schema::{BY_CREATED, BY_STATUS};
use super::stored::{self, decode};
use super::{CreatedAt, Item, StoreError, claimed_id, key, put_new, s};
use halo_domain::{DisplayName, ListQuery, Phone, clock::rfc3339_millis_of_secs};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mitra {
    pub id: Uuid,
    #[serde(deserialize_with = "stored::phone")]
    pub phone: Phone,
    #[serde(deserialize_with = "stored::display_name")]
    pub display_name: DisplayName,
    pub is_active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firebase_uid: Option<String>,
    pub created_at: String,
    /// Unix seconds: a token whose `auth_time` is earlier is revoked (`revoke-sessions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_valid_after: Option<i64>,
}

impl Mitra {
    /// Whether a token signed in at `auth_time` (unix seconds) was revoked since.
    pub fn revoked(&self, auth_time: i64) -> bool {
        self.tokens_valid_after.is_some_and(|after| auth_time < after)
    }
}

impl change::Audited for Mitra {
    fn target(&self) -> Target {
        Target::mitra(self.id)
    }
}

impl Entity for Mitra {
    fn pk(&self) -> String {
        mitra_pk(&self.id)
    }

    fn derived(&self) -> Vec<(&'static str, AttributeValue)> {
        vec![("status_pk", s(status_partition(self.is_active)))]
    }

    fn audited(&self) -> Map<String, Value> {
        let mut fields = change::fields_of(self);
        if let Some(secs) = self.tokens_valid_after {
            fields.insert("tokens_valid_after".into(), rfc3339_millis_of_secs(secs).into());
        }
        fields
    }
}

pub struct Mitras<'a> {
    client: &'a Client,
    table: &'a str,
}

const LIST_PARTITION: &str = "MITRA";

fn mitra_pk(id: &Uuid) -> String {
    format!("MITRA#{id}")
}
fn phone_pk(phone: &str) -> String {
    format!("PHONE#{phone}")
}
fn phone_claim(phone: &Phone, id: &Uuid) -> Item {
    [("pk".to_owned(), s(phone_pk(phone.as_str()))), ("mitra_id".to_owned(), s(id.to_string()))].into()
}
fn status_partition(active: bool) -> &'static str {
    if active { "MITRA#ACTIVE" } else { "MITRA#INACTIVE" }
}
fn status_counter(active: bool) -> &'static str {
    if active { "active" } else { "inactive" }
}

impl<'a> Mitras<'a> {
    pub fn new(client: &'a Client, table: &'a str) -> Self {
        Self { client, table }
    }

    /// Creates an inactive mitra, with its `mitra.create` record when `audit` is given (routes
    /// always give one; seeding and tests may not). Refused `Taken` when the phone has a mitra.
    pub async fn create(
        &self,
        phone: &Phone,
        display_name: DisplayName,
        audit: Option<&Audit<'_>>,
    ) -> Result<Outcome<Mitra>, StoreError> {
        change::retry("creating a mitra", || async {
            let id = Uuid::now_v7();
            let created = CreatedAt::now(&id);
            let mitra = Mitra {
                id,
                phone: phone.clone(),
                display_name: display_name.clone(),
                is_active: false,
                firebase_uid: None,
                created_at: created.rfc3339,
                tokens_valid_after: None,
            };
            let mut also = vec![
                Also::refusing(put_new(self.table, phone_claim(phone, &id)), Conflict::Taken),
                Also::item(bump_counters(self.table, &[("total", 1), (status_counter(false), 1)])),
            ];
            also.extend(change::record(audit, AuditAction::MitraCreate, None, Some(&mitra))?);
            let list_keys = vec![("list_pk", s(LIST_PARTITION)), ("list_sk", s(created.sort_key))];
            let decision = (Next::Create(mitra.clone(), list_keys), also, mitra);
            change::write(self.client, self.table, None, decision, "creating a mitra").await
        })
        .await
    }

    pub async fn by_id(&self, id: &Uuid) -> Result<Option<Mitra>, StoreError> {
        Ok(change::read::<Mitra>(self.client, self.table, &mitra_pk(id)).await?.map(|r| r.value))
    }

    pub async fn by_phone(&self, phone: &Phone) -> Result<Option<Mitra>, StoreError> {
        let Some(id) = claimed_id(self.client, self.table, &phone_pk(phone.as_str()), "mitra_id").await? else {
            return Ok(None);
        };
        self.by_id(&id).await
    }

    /// Binds the Firebase uid on first login; false when another uid is bound, or when since
    /// `seen` was read its phone changed or its sessions were revoked for a token signed in
    /// at `auth_time` (a login racing those must not bind).
    pub async fn bind_uid(&self, seen: &Mitra, uid: &str, auth_time: i64) -> Result<bool, StoreError> {
        let outcome = self
            .change(&seen.id, "binding a mitra's uid", |mitra| {
                if mitra.phone != seen.phone || mitra.revoked(auth_time) {
                    return Ok(Err(Outcome::NotFound));
                }
                Ok(match mitra.firebase_uid.as_deref() {
                    Some(bound) if bound == uid => Err(Outcome::Unchanged(mitra.clone())),
                    Some(_) => Err(Outcome::Refused(Conflict::Taken)),
                    None => {
                        let bound = Mitra { firebase_uid: Some(uid.to_owned()), ..mitra.clone() };
                        Ok((Next::Update(bound.clone()), Vec::new(), bound))
                    }
                })
            })
            .await?;
        Ok(matches!(outcome, Outcome::Changed(_) | Outcome::Unchanged(_)))
    }

    /// Sets the status, moving the counters, with its `mitra.status` record when `audit` is
    /// given; `Unchanged` (nothing written or recorded) when it already is `active`.
    pub async fn set_status(
        &self,
        id: &Uuid,
        active: bool,
        audit: Option<&Audit<'_>>,
    ) -> Result<Outcome<Mitra>, StoreError> {
        self.change(id, "changing a mitra's status", |before| {
            let after = Mitra { is_active: active, ..before.clone() };
            let counters = bump_counters(self.table, &[(status_counter(active), 1), (status_counter(!active), -1)]);
            let mut also = vec![Also::item(counters)];
            also.extend(change::record(audit, AuditAction::MitraStatus, Some(before), Some(&after))?);
            Ok(Ok((Next::Update(after.clone()), also, after)))
        })
        .await
    }

    /// Changes the display name and/or the phone, with its `mitra.update` record. A new phone
    /// claims `PHONE#<new>` (refused `Taken` when it has a mitra), releases the old claim and
    /// clears the uid binding, so the next login binds afresh.
    pub async fn update(
        &self,
        id: &Uuid,
        display_name: Option<&DisplayName>,
        phone: Option<&Phone>,
        audit: &Audit<'_>,
    ) -> Result<Outcome<Mitra>, StoreError> {
        self.change(id, "updating a mitra", |before| {
            let mut after = before.clone();
            if let Some(name) = display_name {
                after.display_name = name.clone();
            }
            let mut also = Vec::new();
            if let Some(phone) = phone.filter(|p| **p != before.phone) {
                after.phone = phone.clone();
                after.firebase_uid = None;
                also.push(Also::item(self.release_phone(before)));
                also.push(Also::refusing(put_new(self.table, phone_claim(phone, id)), Conflict::Taken));
            }
            also.extend(change::record(Some(audit), AuditAction::MitraUpdate, Some(before), Some(&after))?);
            Ok(Ok((Next::Update(after.clone()), also, after)))
        })
        .await
    }

    /// Deletes the mitra, releases its phone, moves the counters and writes `mitra.delete`.
    pub async fn delete(&self, id: &Uuid, audit: &Audit<'_>) -> Result<Outcome<Mitra>, StoreError> {
        self.change(id, "deleting a mitra", |before| {
            let mut also = vec![
                Also::item(self.release_phone(before)),
                Also::item(bump_counters(self.table, &[("total", -1), (status_counter(before.is_active), -1)])),
            ];
            also.extend(change::record(Some(audit), AuditAction::MitraDelete, Some(before), None)?);
            Ok(Ok((Next::Delete, also, before.clone())))
        })
        .await
    }

    /// Revokes every token signed in before `now` (unix seconds) and clears the uid binding,
    /// with its `mitra.revoke_sessions` record. The instant never moves back, whatever the
    /// caller's clock says; a revocation already holding it changes nothing.
    pub async fn revoke_sessions(&self, id: &Uuid, now: i64, audit: &Audit<'_>) -> Result<Outcome<Mitra>, StoreError> {
        self.change(id, "revoking a mitra's sessions", |before| {
            let after_instant = before.tokens_valid_after.map_or(now, |t| t.max(now));
            let after = Mitra { tokens_valid_after: Some(after_instant), firebase_uid: None, ..before.clone() };
            let also = change::record(Some(audit), AuditAction::MitraRevokeSessions, Some(before), Some(&after))?;
            Ok(Ok((Next::Update(after.clone()), also.into_iter().collect(), after)))
        })
        .await
    }

    /// [`change::change`] of one mitra: `NotFound` when there is none, `Unchanged` when the
    /// decision leaves it as it is.
    async fn change(
        &self,
        id: &Uuid,
        what: &'static str,
        mut decide: impl FnMut(&Mitra) -> Result<Decided<Mitra, Mitra>, StoreError>,
    ) -> Result<Outcome<Mitra>, StoreError> {
        change::change(self.client, self.table, &mitra_pk(id), what, |read: Option<&Read<Mitra>>| {
            let Some(read) = read else { return Ok(Err(Outcome::NotFound)) };
            Ok(match decide(&read.value)? {
                Ok((Next::Update(after), _, _)) if after == read.value => Err(Outcome::Unchanged(after)),
                decided => decided,
            })
        })
        .await
    }

    /// Deletes `PHONE#<phone>` of `mitra`, on condition it is still this mitra's.
    fn release_phone(&self, mitra: &Mitra) -> TransactWriteItem {
        let delete = Delete::builder()
            .table_name(self.table)
            .set_key(Some(key(phone_pk(mitra.phone.as_str()))))
            .condition_expression("mitra_id = :id")
            .expression_attribute_values(":id", s(mitra.id.to_string()))
            .build()
            .expect("table, key and expression are set");
        TransactWriteItem::builder().delete(delete).build()
    }

    /// One page, newest first, and how many mitras match the filter.
    pub async fn list(&self, query: &ListQuery) -> Result<(Vec<Mitra>, u64), StoreError> {
        let (index, partition, total_attribute) = match query.is_active {
            None => (BY_CREATED, LIST_PARTITION, "total"),
            Some(active) => (BY_STATUS, status_partition(active), status_counter(active)),
        };
        let (page, total) = tokio::try_join!(
            list::page(self.client, self.table, index, partition, query.offset(), query.limit as usize),
            counter(self.client, self.table, total_attribute),
        )?;
        let mitras = page.items.into_iter().map(decode).collect::<Result<Vec<Mitra>, _>>()?;
        Ok((mitras, total))
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;

    use super::*;
    use crate::stored::decode;
    use crate::{Item, StoreError, s};

    fn mitra_item(phone: &str, name: &str) -> Item {
        Item::from([
            ("pk".to_owned(), s("MITRA#0190a1b2-0000-7000-8000-000000000001")),
            ("id".to_owned(), s("0190a1b2-0000-7000-8000-000000000001")),
            ("phone".to_owned(), s(phone)),
            ("display_name".to_owned(), s(name)),
            ("is_active".to_owned(), AttributeValue::Bool(true)),
            ("created_at".to_owned(), s("2026-04-04T00:00:00.000Z")),
        ])
    }

    #[test]
    fn a_stored_mitra_reads_back_through_the_parsers_and_writes_the_same_attributes() {
        let item = mitra_item("+6281234567890", "Dr. Budi");
        let mitra: Mitra = decode(item.clone()).unwrap();
        assert_eq!(mitra.phone, Phone::parse("081234567890").unwrap());
        assert_eq!(mitra.display_name.as_str(), "Dr. Budi");
        let mut written = crate::to_item(&mitra).unwrap();
        written.insert("pk".into(), item["pk"].clone());
        assert_eq!(written, item);
    }

    #[test]
    fn a_stored_value_that_does_not_parse_is_a_storage_fault_naming_the_item_not_the_value() {
        for (phone, name, what) in [("+15550100", "Dr. Budi", "phone"), ("+6281234567890", "  ", "display_name")] {
            let err = decode::<Mitra>(mitra_item(phone, name)).unwrap_err();
            let StoreError::Failed(cause) = err else { panic!("{what}: a fault, not unavailability") };
            let chain = format!("{cause:#}");
            assert!(chain.contains("reading MITRA#0190a1b2"), "{chain}");
            assert!(chain.contains(&format!("stored {what} does not parse")), "{chain}");
            assert!(!chain.contains("+15550100"), "{chain}");
        }
    }
}
