//! Parsed domain values. A value of one of these types has passed validation;
//! the private fields make it impossible to build one any other way. None of them is
//! `Deserialize`: requests and stored items alike reach them through `parse`.
//!
//! Parsers answer with the domain's own errors ([`Invalid`], [`CustomerNameError`],
//! [`InvalidFields`]); the request pipeline (`shared::error`) maps them to HTTP answers.
//!
//! The bottom layer: no storage, no HTTP. The roles' seeded facts and the audit log's
//! vocabulary live here too, so that storage and authorization read them from below.

pub mod audit;
pub mod clock;
pub mod roles;
pub mod schema;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Why a raw value is not a valid domain value, in words meant for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    pub fn message(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Invalid {
    fn from(message: &str) -> Self {
        Self(message.to_owned())
    }
}

impl From<String> for Invalid {
    fn from(message: String) -> Self {
        Self(message)
    }
}

/// Several named values that failed at once, in the order they were checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvalidFields(pub Vec<(String, Invalid)>);

/// An Indonesian mobile number in E.164 form, `+628…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// Accepts `+628…`, `628…` and `08…`; the subscriber part after the `8` is 7–11 digits.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let national = raw
            .strip_prefix("+62")
            .or_else(|| raw.strip_prefix("62"))
            .or_else(|| raw.strip_prefix('0'))
            .ok_or("must start with +62, 62 or 0")?;
        let valid = national.starts_with('8')
            && national.bytes().all(|b| b.is_ascii_digit())
            && (8..=12).contains(&national.len());
        if !valid {
            return Err("must be an Indonesian mobile number such as +6281234567890".into());
        }
        Ok(Self(format!("+62{national}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A customer's name is the one value whose absence has its own error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerNameError {
    #[error("display_name is required")]
    Missing,
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

/// A customer's chosen name: trimmed, 1–50 grapheme clusters with a visible one, no control or bidi characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CustomerDisplayName(String);

impl CustomerDisplayName {
    pub const MAX_CHARS: usize = 50;

    /// Missing, null and blank are all [`CustomerNameError::Missing`].
    pub fn parse(raw: Option<&str>) -> Result<Self, CustomerNameError> {
        match check_name(raw.unwrap_or_default(), Self::MAX_CHARS) {
            Ok(name) => Ok(Self(name.to_owned())),
            Err(NameError::Blank) => Err(CustomerNameError::Missing),
            Err(NameError::Invalid(invalid)) => Err(CustomerNameError::Invalid(invalid)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A mitra's or control-center user's name: trimmed, 1–100 grapheme clusters with a visible one, no control or bidi characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match check_name(raw, Self::MAX_CHARS) {
            Ok(name) => Ok(Self(name.to_owned())),
            Err(NameError::Blank) => Err("must not be blank".into()),
            Err(NameError::Invalid(invalid)) => Err(invalid),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// How a name failed, before the caller's kind of name decides the code.
enum NameError {
    Blank,
    Invalid(Invalid),
}

/// At most 400 UTF-8 bytes, whatever the length in characters (operations.md §8).
pub const NAME_MAX_BYTES: usize = 400;

/// The bidi controls that can reverse how a name reads (U+202A–U+202E, U+2066–U+2069).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A character that shows: Unicode general category L, M, N, P or S. Separators, controls,
/// format (zero-width) characters, private use and unassigned code points do not.
pub fn is_visible(c: char) -> bool {
    use unicode_general_category::GeneralCategory::*;
    !matches!(
        unicode_general_category::get_general_category(c),
        Control | Format | LineSeparator | ParagraphSeparator | SpaceSeparator | PrivateUse | Surrogate | Unassigned
    )
}

/// Trims, then checks the name rules: no control or bidi characters, a visible character,
/// at most `max` extended grapheme clusters and [`NAME_MAX_BYTES`] bytes.
fn check_name(raw: &str, max: usize) -> Result<&str, NameError> {
    use unicode_segmentation::UnicodeSegmentation;
    let name = raw.trim();
    if name.chars().any(is_bidi_control) {
        return Err(NameError::Invalid("must not contain bidirectional control characters".into()));
    }
    if name.chars().any(char::is_control) {
        return Err(NameError::Invalid("must not contain control characters".into()));
    }
    if !name.chars().any(is_visible) {
        return Err(NameError::Blank);
    }
    if name.graphemes(true).count() > max {
        return Err(NameError::Invalid(format!("must be at most {max} characters").into()));
    }
    if name.len() > NAME_MAX_BYTES {
        return Err(NameError::Invalid(format!("must be at most {NAME_MAX_BYTES} bytes of UTF-8").into()));
    }
    Ok(name)
}

/// A lower-cased email address of plausible shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// RFC 5321's limit on a whole address.
    pub const MAX_LEN: usize = 254;

    /// The longest local part.
    pub const MAX_LOCAL_LEN: usize = 64;

    /// The practical grammar of operations.md §8: an ASCII dot-atom local part, a domain of
    /// two or more LDH labels whose last is alphabetic; no quoted local parts, no IP literals.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        // Only ASCII spaces are trimmed: other whitespace (a no-break space, say) is refused.
        let email = raw.trim_matches(' ').to_ascii_lowercase();
        let invalid = || Invalid::from("must be an email address");
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b);
        let local_ok = (1..=Self::MAX_LOCAL_LEN).contains(&local.len())
            && local.split('.').all(|atom| !atom.is_empty() && atom.bytes().all(atext));
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| label_ok(l))
            && labels.last().is_some_and(|l| l.bytes().all(|b| b.is_ascii_alphabetic()));
        if email.len() > Self::MAX_LEN || !email.is_ascii() || !local_ok || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A UUID in the canonical hyphenated 36-character form only (either case), as paths and
/// bodies must send it; braces, `urn:uuid:` and the bare 32 digits are refused.
pub fn parse_uuid(raw: &str) -> Result<uuid::Uuid, Invalid> {
    let canonical = raw.len() == 36
        && raw.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    if !canonical {
        return Err("must be a UUID in the form 0190a6f4-e89b-72d3-a456-426614174000".into());
    }
    uuid::Uuid::parse_str(raw).map_err(|_| "must be a UUID in the form 0190a6f4-e89b-72d3-a456-426614174000".into())
}

/// Strips what people (and the Firebase Auth Emulator, verbatim) put between a phone's
/// digits: spaces, hyphens, dots and parentheses. Only token phones are normalised so.
pub fn strip_phone_punctuation(raw: &str) -> String {
    raw.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect()
}

/// A customer's phone: E.164 from any country, `+` and 7–15 digits, the first not 0.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CustomerPhone(String);

impl CustomerPhone {
    /// A token's phone, normalised by [`strip_phone_punctuation`] first.
    pub fn from_token(raw: &str) -> Result<Self, Invalid> {
        Self::parse(&strip_phone_punctuation(raw))
    }

    /// Exactly `^\+[1-9][0-9]{6,14}$`.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let digits = raw.strip_prefix('+').unwrap_or_default();
        let valid =
            (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
        if !valid {
            return Err("must be a phone number in E.164 form such as +6281234567890".into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `page`, `limit` and the optional `is_active` filter of a list request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListQuery {
    pub page: u32,
    pub limit: u32,
    pub is_active: Option<bool>,
}

impl ListQuery {
    pub const MAX_LIMIT: u32 = 100;
    /// How deep an offset page may reach (operations.md §11): what it costs to read is bounded.
    pub const MAX_DEPTH: u64 = 10_000;

    /// `get` answers a query parameter by name; `allow_is_active` says whether the route filters.
    pub fn parse<'a>(get: impl Fn(&str) -> Option<&'a str>, allow_is_active: bool) -> Result<Self, InvalidFields> {
        let mut errors = Vec::new();
        let page = parse_bounded(get("page"), "page", 1, u32::MAX, 1, &mut errors);
        let limit = parse_bounded(get("limit"), "limit", 1, Self::MAX_LIMIT, 20, &mut errors);
        let is_active = match (allow_is_active, get("is_active")) {
            (true, Some("true")) => Some(true),
            (true, Some("false")) => Some(false),
            (true, Some(_)) => {
                errors.push(("is_active".to_owned(), Invalid::from("must be true or false")));
                None
            }
            _ => None,
        };
        if errors.is_empty() && u64::from(page) * u64::from(limit) > Self::MAX_DEPTH {
            let message = format!("page × limit must be at most {}; this page is deeper", Self::MAX_DEPTH);
            errors.push(("page".to_owned(), Invalid::from(message)));
        }
        if errors.is_empty() { Ok(Self { page, limit, is_active }) } else { Err(InvalidFields(errors)) }
    }

    /// How many items precede this page.
    pub fn offset(&self) -> usize {
        (self.page as usize - 1) * self.limit as usize
    }
}

fn parse_bounded(
    raw: Option<&str>,
    field: &str,
    min: u32,
    max: u32,
    default: u32,
    errors: &mut Vec<(String, Invalid)>,
) -> u32 {
    let Some(raw) = raw else { return default };
    match raw.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) && !raw.starts_with('+') => n,
        _ => {
            errors.push((field.to_owned(), format!("must be an integer from {min} to {max}").into()));
            default
        }
    }
}

/// A resource a control-center role can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    Mitra,
    ControlCenterUsers,
    Config,
    AuditLog,
}

impl Resource {
    /// Every resource, in the contract's order.
    pub const ALL: [Resource; 4] = {
        // Adding a variant without listing it here fails to compile.
        let _exhaustive = |r: Resource| match r {
            Resource::Mitra | Resource::ControlCenterUsers | Resource::Config | Resource::AuditLog => (),
        };
        [Resource::Mitra, Resource::ControlCenterUsers, Resource::Config, Resource::AuditLog]
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Read,
    Update,
    Delete,
}

/// One `resource:action` pair, as the contract writes them (`mitra:create`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    pub resource: Resource,
    pub action: Action,
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let resource = serde_json::to_value(self.resource).unwrap_or_default();
        let action = serde_json::to_value(self.action).unwrap_or_default();
        write!(f, "{}:{}", resource.as_str().unwrap_or("?"), action.as_str().unwrap_or("?"))
    }
}

/// A role's permissions, serialised with every resource in the contract's order
/// (`[]` where the role has no action on it):
/// `{"mitra": ["create", …], "control_center_users": […], "config": […], "audit_log": […]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Permissions(BTreeMap<Resource, BTreeSet<Action>>);

impl Serialize for Permissions {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let none = BTreeSet::new();
        let mut map = serializer.serialize_map(Some(Resource::ALL.len()))?;
        for resource in Resource::ALL {
            map.serialize_entry(&resource, self.0.get(&resource).unwrap_or(&none))?;
        }
        map.end()
    }
}

impl Permissions {
    pub fn new(grants: &[(Resource, &[Action])]) -> Self {
        Self(grants.iter().map(|(r, actions)| (*r, actions.iter().copied().collect())).collect())
    }

    pub fn allows(&self, permission: Permission) -> bool {
        self.0.get(&permission.resource).is_some_and(|actions| actions.contains(&permission.action))
    }

    /// True when every grant of `other` is also granted here.
    pub fn includes(&self, other: &Permissions) -> bool {
        other.0.iter().all(|(resource, actions)| {
            actions.iter().all(|&action| self.allows(Permission { resource: *resource, action }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_accepts_the_three_indonesian_forms_and_normalises_them() {
        for raw in ["+6281234567890", "6281234567890", "081234567890"] {
            assert_eq!(Phone::parse(raw).unwrap().as_str(), "+6281234567890");
        }
    }

    #[test]
    fn phone_rejects_other_shapes() {
        for raw in [
            "",
            "+62",
            "+6221234567",
            "12345",
            "+1 555 0100",
            "0812-3456-7890",
            "+62812345678901234",
            "+62812",
            "+62８１２３４５６７８",
        ] {
            assert!(Phone::parse(raw).is_err(), "{raw} should be rejected");
        }
    }

    #[test]
    fn customer_display_name_is_trimmed() {
        let name = CustomerDisplayName::parse(Some("  Angin Malam ")).unwrap();
        assert_eq!(name.into_inner(), "Angin Malam");
    }

    #[test]
    fn customer_display_name_missing_or_blank_is_display_name_required() {
        for raw in [None, Some(""), Some("   \t ")] {
            assert_eq!(CustomerDisplayName::parse(raw), Err(CustomerNameError::Missing));
        }
    }

    #[test]
    fn customer_display_name_over_50_chars_or_with_control_chars_is_invalid_not_missing() {
        let long = "é".repeat(51);
        assert_eq!(
            CustomerDisplayName::parse(Some(&long)),
            Err(CustomerNameError::Invalid("must be at most 50 characters".into()))
        );
        assert!(CustomerDisplayName::parse(Some(&"é".repeat(50))).is_ok());
        assert_eq!(
            CustomerDisplayName::parse(Some("a\u{7}b")),
            Err(CustomerNameError::Invalid("must not contain control characters".into()))
        );
    }

    #[test]
    fn display_name_allows_100_chars_and_no_more() {
        assert!(DisplayName::parse(&"x".repeat(100)).is_ok());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
        assert!(DisplayName::parse("  ").is_err());
    }

    #[test]
    fn email_is_lower_cased_and_needs_a_domain() {
        assert_eq!(Email::parse(" Admin@HaloBestie.com ").unwrap().as_str(), "admin@halobestie.com");
        for raw in ["admin", "@halobestie.com", "admin@localhost", "a b@x.com", "a@b@c.com", "a@.com"] {
            assert!(Email::parse(raw).is_err(), "{raw} should be rejected");
        }
    }

    #[test]
    fn names_count_grapheme_clusters_and_bytes() {
        assert!(CustomerDisplayName::parse(Some(&"e\u{301}".repeat(50))).is_ok());
        assert!(CustomerDisplayName::parse(Some(&"e\u{301}".repeat(51))).is_err());
        let family = "👨\u{200d}👩\u{200d}👧\u{200d}👦";
        assert!(DisplayName::parse(&family.repeat(16)).is_ok(), "16 clusters, 400 bytes");
        assert_eq!(
            DisplayName::parse(&format!("{}a", family.repeat(16))),
            Err(Invalid::from("must be at most 400 bytes of UTF-8"))
        );
    }

    #[test]
    fn a_name_without_a_visible_character_is_blank_and_bidi_controls_are_refused_anywhere() {
        for blank in ["\u{200b}", "\u{feff}\u{2060}", "\u{00ad}", "\u{e000}", "\u{3000}\u{200d}"] {
            assert_eq!(CustomerDisplayName::parse(Some(blank)), Err(CustomerNameError::Missing), "{blank:?}");
            assert_eq!(DisplayName::parse(blank), Err(Invalid::from("must not be blank")), "{blank:?}");
        }
        assert!(DisplayName::parse("a\u{200b}").is_ok(), "one visible character is enough");
        for bidi in ["\u{202a}", "a\u{202e}b", "\u{2066}x\u{2069}"] {
            assert!(matches!(CustomerDisplayName::parse(Some(bidi)), Err(CustomerNameError::Invalid(_))), "{bidi:?}");
            assert!(DisplayName::parse(bidi).is_err(), "{bidi:?}");
        }
    }

    #[test]
    fn email_follows_the_practical_grammar() {
        for good in ["a@b.co", "o'neil+x@mail.example-1.co.id", "!#$%&'*+/=?^_`{|}~-@x.io", "a.b.c@d.e.fg"] {
            assert!(Email::parse(good).is_ok(), "{good}");
        }
        let long_label = format!("a@{}.com", "x".repeat(64));
        let long_local = format!("{}@x.com", "l".repeat(65));
        for bad in [
            "a@-bad-.com",
            "a@[127.0.0.1]",
            "\"a\"@x.com",
            "a..b@x.com",
            ".a@x.com",
            "a.@x.com",
            "a@x",
            "a@x.c0m",
            "a@x_y.com",
            "ä@x.com",
            "a@x..com",
            "a@.x.com",
            "a@x.com.",
            &long_label,
            &long_local,
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn uuids_parse_only_in_the_canonical_hyphenated_form() {
        let id = "0190a6f4-e89b-72d3-a456-426614174000";
        assert!(parse_uuid(id).is_ok());
        assert!(parse_uuid(&id.to_uppercase()).is_ok());
        for bad in
            [format!("{{{id}}}"), format!("urn:uuid:{id}"), id.replace('-', ""), format!(" {id}"), format!("{id}0")]
        {
            assert!(parse_uuid(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn customer_phones_are_stripped_then_e164_from_any_country() {
        assert_eq!(CustomerPhone::from_token("+62 812-9999-0001").unwrap().as_str(), "+6281299990001");
        assert_eq!(CustomerPhone::from_token("+1 (555) 010.0123").unwrap().as_str(), "+15550100123");
        for bad in ["+0123456789", "6281299990001", "+123456", "+1234567890123456", "+62_812", "+62８１２３４５６７８"]
        {
            assert!(CustomerPhone::from_token(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn list_query_defaults_to_page_1_limit_20() {
        let q = ListQuery::parse(|_| None, true).unwrap();
        assert_eq!(q, ListQuery { page: 1, limit: 20, is_active: None });
    }

    #[test]
    fn list_query_rejects_out_of_range_and_non_integer_values() {
        for (k, v) in [
            ("page", "0"),
            ("page", "x"),
            ("limit", "101"),
            ("limit", "0"),
            ("limit", "2.5"),
            ("is_active", "yes"),
            ("page", "+1"),
        ] {
            let result = ListQuery::parse(|name| (name == k).then_some(v), true);
            let fields: Vec<String> =
                result.err().map(|e| e.0.into_iter().map(|(f, _)| f).collect()).unwrap_or_default();
            assert_eq!(fields, [k], "{k}={v}");
        }
    }

    #[test]
    fn list_query_reports_every_bad_parameter_at_once_and_ignores_is_active_where_not_allowed() {
        let raw = |name: &str| match name {
            "page" => Some("0"),
            "limit" => Some("x"),
            "is_active" => Some("maybe"),
            _ => None,
        };
        let fields: Vec<String> = ListQuery::parse(raw, true).unwrap_err().0.into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["page", "limit", "is_active"]);
        let fields: Vec<String> = ListQuery::parse(raw, false).unwrap_err().0.into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["page", "limit"]);
    }

    #[test]
    fn permissions_includes_only_subsets() {
        let operator = Permissions::new(&[
            (Resource::Mitra, &[Action::Create, Action::Read]),
            (Resource::Config, &[Action::Read]),
        ]);
        let admin = Permissions::new(&[
            (Resource::Mitra, &[Action::Create, Action::Read, Action::Update]),
            (Resource::Config, &[Action::Read, Action::Update]),
        ]);
        assert!(admin.includes(&operator));
        assert!(!operator.includes(&admin));
        assert!(operator.includes(&Permissions::default()));
    }

    #[test]
    fn permissions_serialise_in_the_contracts_order() {
        let p = Permissions::new(&[
            (Resource::Config, &[Action::Update, Action::Read]),
            (Resource::Mitra, &[Action::Read]),
        ]);
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"mitra":["read"],"control_center_users":[],"config":["read","update"],"audit_log":[]}"#
        );
    }
}
