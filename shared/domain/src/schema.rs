//! The JSON schemas of the domain values, as the OpenAPI specs state them: what a request
//! may send (exactly what the parsers in [`crate`] accept) and what an answer holds.
//! Request and view types point their fields here with `#[schemars(schema_with = …)]`.

use schemars::{Schema, SchemaGenerator, json_schema};

use crate::{CustomerDisplayName, DisplayName, Email, ListQuery};

/// What `str::trim` removes: Unicode `White_Space` (Rust's `char::is_whitespace`).
const WHITESPACE: &str = r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// Neither whitespace, a control character (`char::is_control`: U+0000–U+001F, U+007F–U+009F)
/// nor a bidi control: how a trimmed name starts and ends.
const ENDS: &str = r"[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202A-\u202F\u205F\u2066-\u2069\u3000]";
/// Neither a control character nor a bidi control (U+202A–U+202E, U+2066–U+2069).
const NOT_CONTROL: &str = r"[^\x00-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]";

/// The characters of Unicode general category L, M, N, P or S, as a character class written
/// out from the same tables the parser uses (`domain::is_visible`), so the spec and the parser
/// agree on every code point: `\uXXXX` escapes in the Basic Multilingual Plane and the
/// characters themselves past it, as ECMA 262 (outside its `u` mode), Python's `re` (the
/// fuzzer's) and Rust's engines all read them.
pub fn visible_class() -> &'static str {
    static CLASS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CLASS.get_or_init(|| {
        // ECMA 262 has no escape for code points past U+FFFF outside its `u` mode, so those stand as themselves.
        let escape = |c: u32| match char::from_u32(c) {
            Some(ch) if c > 0xFFFF => ch.to_string(),
            _ => format!("\\u{c:04X}"),
        };
        let mut class = String::from("[");
        let mut start: Option<u32> = None;
        for c in 0..=0x11_0000u32 {
            let visible = char::from_u32(c).is_some_and(crate::is_visible);
            match (visible, start) {
                (true, None) => start = Some(c),
                (false, Some(from)) => {
                    class.push_str(&escape(from));
                    if c - 1 > from {
                        class.push('-');
                        class.push_str(&escape(c - 1));
                    }
                    start = None;
                }
                _ => {}
            }
        }
        class.push(']');
        class
    })
}

/// A name as the parsers accept it: any surrounding whitespace (trimmed away), then
/// 1..=`max` characters with no control or bidi characters that start and end with neither,
/// and somewhere a visible character (the lookahead). The parser counts grapheme clusters,
/// of which there are never more than characters, so whatever matches is accepted.
pub fn name_input_pattern(max: usize) -> String {
    format!(
        "^(?=[\\s\\S]*{visible})[{WHITESPACE}]*{ENDS}(?:{NOT_CONTROL}{{0,{}}}{ENDS})?[{WHITESPACE}]*$",
        max - 2,
        visible = visible_class()
    )
}

/// A name as the API returns it: already trimmed.
pub fn name_output_pattern(max: usize) -> String {
    format!("^{ENDS}(?:{NOT_CONTROL}{{0,{}}}{ENDS})?$", max - 2)
}

/// A phone number in any form `Phone::parse` accepts: `+628…`, `628…` or `08…`.
pub const PHONE_INPUT_PATTERN: &str = r"^(?:\+62|62|0)8[0-9]{7,11}$";
/// A stored phone number: E.164, `+628` and 7–11 more digits.
pub const PHONE_E164_PATTERN: &str = r"^\+628[0-9]{7,11}$";
/// A customer's phone as stored: E.164 from any country.
pub const CUSTOMER_PHONE_PATTERN: &str = r"^\+[1-9][0-9]{6,14}$";
/// A UUID in its canonical hyphenated form, the only one requests may use.
pub const UUID_PATTERN: &str = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
/// The practical email grammar of `Email::parse`, surrounding whitespace (trimmed away)
/// allowed: a dot-atom local part, here of up to four atoms of at most 16 characters so that
/// it stays within 64 without a lookahead (which makes a fuzzer discard most of what it draws),
/// then two or more letter-digit-hyphen labels of at most 63, the last alphabetic.
pub fn email_pattern() -> String {
    format!("^ *{ATEXT}{{1,16}}(?:\\.{ATEXT}{{1,15}}){{0,3}}@(?:{LABEL}\\.)+[A-Za-z]{{1,63}} *$")
}
/// An email as answered: the same grammar, trimmed, its atoms of any length (the input
/// pattern's shorter ones are for a fuzzer's sake). A pattern rather than `format: email`,
/// whose validators refuse IDNA labels (`xn--…`) that `Email::parse` rightly accepts.
pub fn stored_email_pattern() -> String {
    format!("^{ATEXT}+(?:\\.{ATEXT}+)*@(?:{LABEL}\\.)+[A-Za-z]{{1,63}}$")
}

const ATEXT: &str = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
const LABEL: &str = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
/// RFC 3339 in UTC with a trailing `Z`, fractional seconds allowed.
pub const TIMESTAMP_PATTERN: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z$";

pub fn id(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "format": "uuid", "example": "0190a6f4-e89b-72d3-a456-426614174000" })
}

/// An id a request sends: the canonical hyphenated form only.
pub fn id_input(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string", "format": "uuid", "pattern": UUID_PATTERN, "example": "0190a6f4-e89b-72d3-a456-426614174000",
        "description": "Canonical hyphenated form; braces, `urn:uuid:` and the bare 32 digits are `VALIDATION_ERROR`.",
    })
}

pub fn timestamp(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN,
        "description": "RFC 3339 in UTC with a trailing `Z`.", "example": "2026-04-04T00:00:00Z",
    })
}

pub fn phone_input(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string", "pattern": PHONE_INPUT_PATTERN, "example": "+6281234567890",
        "description": "`+628…`, `628…` or `08…` with 7–11 digits after the `8`; stored as `+628…`.",
    })
}

pub fn phone(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string", "pattern": PHONE_E164_PATTERN, "example": "+6281234567890",
        "description": "An Indonesian mobile number in E.164.",
    })
}

pub fn customer_phone(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string", "nullable": true, "pattern": CUSTOMER_PHONE_PATTERN, "example": "+6281234567890",
        "description": "E.164 from any country; null until a phone login is linked.",
    })
}

pub fn customer_name_input(_: &mut SchemaGenerator) -> Schema {
    name_input(
        CustomerDisplayName::MAX_CHARS,
        "without control or bidi control characters. Missing, null, blank or without a visible character \
         (category L, M, N, P or S): `DISPLAY_NAME_REQUIRED`; too long, or with control or bidi characters: \
         `VALIDATION_ERROR`.",
        "Angin Malam",
    )
}

pub fn customer_name(_: &mut SchemaGenerator) -> Schema {
    name(CustomerDisplayName::MAX_CHARS, "Angin Malam")
}

pub fn display_name_input(_: &mut SchemaGenerator) -> Schema {
    name_input(
        DisplayName::MAX_CHARS,
        "with a visible character (category L, M, N, P or S) and no control or bidi control characters.",
        "Dr. Budi",
    )
}

pub fn display_name(_: &mut SchemaGenerator) -> Schema {
    name(DisplayName::MAX_CHARS, "Dr. Budi")
}

fn name_input(max: usize, more: &str, example: &str) -> Schema {
    let description =
        format!("Trimmed; then 1–{max} user-perceived characters (grapheme clusters), at most 400 UTF-8 bytes, {more}");
    json_schema!({
        "type": "string", "pattern": name_input_pattern(max), "description": description.trim_end(),
        "example": example,
    })
}

fn name(max: usize, example: &str) -> Schema {
    json_schema!({
        "type": "string", "minLength": 1, "maxLength": max, "pattern": name_output_pattern(max), "example": example,
    })
}

pub fn email_input(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string", "pattern": email_pattern(), "maxLength": Email::MAX_LEN,
        "description": "ASCII, case-insensitive, stored lower-case; at most 254 characters with a local part of \
                        at most 64; dot-atom local part, two or more letter-digit-hyphen labels, the last \
                        alphabetic; no IP literals or quoted local parts.",
        "example": "operator@halobestie.com",
    })
}

pub fn email(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string", "pattern": stored_email_pattern(), "maxLength": Email::MAX_LEN, "example": "operator@halobestie.com",
    })
}

pub fn role_name(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "minLength": 1, "example": "operator" })
}

/// A role id a request may name: in Phase 1 roles are only seeded, so the spec lists their
/// ids, and a fuzzer's valid requests name a role that exists.
pub fn role_id_input(_: &mut SchemaGenerator) -> Schema {
    let ids: Vec<String> =
        [crate::roles::super_admin_role(), crate::roles::operator_role()].iter().map(|r| r.id.to_string()).collect();
    json_schema!({
        "type": "string", "format": "uuid", "enum": ids,
        "description": "The id of a role listed by `GET /internal/roles` (in Phase 1, the seeded `super_admin` \
                        and `operator`); any other id is `VALIDATION_ERROR`.",
    })
}

/// A request body whose every field is required: `#[serde(default)]` (which tells an absent
/// field from `null`) keeps schemars from saying so itself.
pub fn require_all(schema: &mut Schema) {
    let names: Vec<serde_json::Value> = schema
        .get("properties")
        .and_then(|p| p.as_object())
        .map(|p| p.keys().cloned().map(serde_json::Value::String).collect())
        .unwrap_or_default();
    schema.insert("required".into(), serde_json::Value::Array(names));
}

pub fn page_number(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "integer", "minimum": 1, "maximum": crate::ListQuery::MAX_DEPTH, "default": 1,
        "description": "1-based page number; `page × limit` is at most 10,000 (`VALIDATION_ERROR` on `page` beyond)."
    })
}

pub fn page_limit(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "integer", "minimum": 1, "maximum": ListQuery::MAX_LIMIT, "default": 20,
        "description": "Items per page.",
    })
}

pub fn total(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "integer", "minimum": 0, "description": "How many items the filter matches." })
}

/// `{"mitra": [...], "control_center_users": [...], "config": [...], "audit_log": [...]}`: every resource, in the
/// contract's order, with the actions the role has on it.
impl schemars::JsonSchema for crate::Permissions {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Permissions".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut properties = serde_json::Map::new();
        let mut required = Vec::new();
        for resource in crate::Resource::ALL {
            let name = serde_json::to_value(resource).unwrap_or_default().as_str().unwrap_or_default().to_owned();
            properties.insert(
                name.clone(),
                serde_json::json!({
                    "type": "array",
                    "uniqueItems": true,
                    "description": format!("What the role may do with `{name}`."),
                    "items": { "type": "string", "enum": ["create", "read", "update", "delete"] },
                }),
            );
            required.push(name);
        }
        json_schema!({ "type": "object", "required": required, "additionalProperties": false, "properties": properties })
    }
}

pub fn audit_action(_: &mut SchemaGenerator) -> Schema {
    let actions: Vec<&str> = crate::audit::AuditAction::ALL.iter().map(|a| a.as_str()).collect();
    json_schema!({ "type": "string", "enum": actions, "example": "mitra.status" })
}

pub fn audit_target_type(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "enum": ["mitra", "control_center_user", "config"] })
}

pub fn audit_changes(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "description": "Each changed field with its value before (`null` on create) and after (`null` on delete).",
        "additionalProperties": {
            "type": "object", "required": ["from", "to"], "additionalProperties": false,
            "properties": { "from": {}, "to": {} },
        },
        "example": { "is_active": { "from": false, "to": true } },
    })
}
