//! Domain values read back from items. Each goes through the same `parse` as a request's
//! value, so the domain types need no `Deserialize` of their own; a stored value that does
//! not parse is a storage fault naming the attribute's kind (never its content), not a panic.

use std::fmt::Display;

use serde::de::{DeserializeOwned, Error};
use serde::{Deserialize, Deserializer};

use super::{Item, StoreError, from_item, get_s};
use halo_domain::{CustomerDisplayName, CustomerPhone, DisplayName, Email, Phone};

/// [`from_item`], with the item's key in the error so the log names the bad record.
pub fn decode<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    let pk = get_s(&item, "pk").unwrap_or("an item without pk").to_owned();
    from_item(item).map_err(|err| match err {
        StoreError::Failed(e) => StoreError::Failed(e.context(format!("reading {pk}"))),
        other => other,
    })
}

fn parsed<'de, D, T, E>(d: D, what: &str, parse: impl FnOnce(&str) -> Result<T, E>) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    E: Display,
{
    let raw = String::deserialize(d)?;
    parse(&raw).map_err(|e| D::Error::custom(format!("stored {what} does not parse: {e}")))
}

fn optional<'de, D, T, E>(d: D, what: &str, parse: impl FnOnce(&str) -> Result<T, E>) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    E: Display,
{
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(raw) => parse(&raw).map(Some).map_err(|e| D::Error::custom(format!("stored {what} does not parse: {e}"))),
    }
}

pub fn phone<'de, D: Deserializer<'de>>(d: D) -> Result<Phone, D::Error> {
    parsed(d, "phone", Phone::parse)
}

pub fn optional_customer_phone<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CustomerPhone>, D::Error> {
    optional(d, "phone", CustomerPhone::parse)
}

pub fn email<'de, D: Deserializer<'de>>(d: D) -> Result<Email, D::Error> {
    parsed(d, "email", Email::parse)
}

pub fn optional_email<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Email>, D::Error> {
    optional(d, "email", Email::parse)
}

pub fn display_name<'de, D: Deserializer<'de>>(d: D) -> Result<DisplayName, D::Error> {
    parsed(d, "display_name", DisplayName::parse)
}

pub fn customer_display_name<'de, D: Deserializer<'de>>(d: D) -> Result<CustomerDisplayName, D::Error> {
    parsed(d, "display_name", |raw| CustomerDisplayName::parse(Some(raw)))
}
