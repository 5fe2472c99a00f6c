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

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;

    use super::*;
    use crate::mitras::Mitra;
    use crate::s;

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
