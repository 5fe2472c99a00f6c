//! Reading a request: its id, its JSON body and its query string, each failure a 422 that
//! names the field. The pipeline and the endpoints' inputs both read requests through here.

use lambda_http::{Body, Request, RequestExt};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// `Content-Type: application/json`, parameters such as `charset=utf-8` allowed; exactly one.
pub fn is_json(headers: &http::HeaderMap) -> bool {
    let mut values = headers.get_all(http::header::CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else { return false };
    let media_type = value.to_str().ok().and_then(|v| v.split(';').next()).unwrap_or_default();
    media_type.trim().eq_ignore_ascii_case("application/json")
}

/// The caller's `x-request-id` when it is a sane token, else API Gateway's, else a fresh UUID.
pub fn request_id(req: &Request) -> String {
    let sane = is_sane_request_id;
    if let Some(id) = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).filter(|id| sane(id)) {
        return id.to_owned();
    }
    let gateway_id = req.request_context_ref().and_then(|ctx| match ctx {
        lambda_http::request::RequestContext::ApiGatewayV1(c) => c.request_id.clone(),
        lambda_http::request::RequestContext::ApiGatewayV2(c) => c.request_id.clone(),
        _ => None,
    });
    gateway_id.filter(|id| sane(id)).unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// 1–128 characters of letters, digits and `-_.:`: safe to log and echo.
pub fn is_sane_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

pub(crate) fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

/// Parses the JSON body; an empty body reads as `{}`. Every failure is a 422 with details,
/// a key given twice in one object included (serde would keep the last one).
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes = body_bytes(req);
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { bytes };
    let value = match serde_json::from_slice::<NoDuplicates>(bytes) {
        Ok(NoDuplicates(value)) => value,
        Err(err) if err.is_data() => {
            let message = err.to_string();
            let key = message.split('`').nth(1).unwrap_or("body").to_owned();
            return Err(ApiError::validation(key, "is given more than once"));
        }
        Err(_) => return Err(ApiError::validation("body", "body is not valid JSON")),
    };
    // serde would read an array as positional fields; a request body is an object or nothing.
    if !value.is_object() {
        return Err(ApiError::validation("body", "body must be a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let field = match message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
            Some(missing) if path == "." => missing.to_owned(),
            Some(missing) => format!("{path}.{missing}"),
            None if path == "." => "body".to_owned(),
            None => path,
        };
        ApiError::validation(field, message)
    })
}

/// A JSON value read with every object's keys checked for duplicates, at any depth.
struct NoDuplicates(serde_json::Value);

impl<'de> serde::Deserialize<'de> for NoDuplicates {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicatesVisitor).map(NoDuplicates)
    }
}

struct NoDuplicatesVisitor;

impl<'de> serde::de::Visitor<'de> for NoDuplicatesVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(NoDuplicates(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(serde_json::Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let NoDuplicates(value) = map.next_value()?;
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            object.insert(key, value);
        }
        Ok(serde_json::Value::Object(object))
    }
}

/// A query-string lookup usable by [`crate::domain::ListQuery::parse`]; a parameter given
/// more than once is refused rather than resolved to one of its values.
pub fn query<'r>(req: &'r Request) -> Result<impl Fn(&str) -> Option<&'r str>, ApiError> {
    let params = req.query_string_parameters_ref();
    if let Some(params) = params {
        let mut repeated: Vec<String> = params
            .iter()
            .filter(|(k, _)| params.all(k).is_some_and(|v| v.len() > 1))
            .map(|(k, _)| k.to_owned())
            .collect();
        repeated.sort();
        repeated.dedup();
        if !repeated.is_empty() {
            return Err(ApiError::Validation(
                repeated.into_iter().map(|k| crate::error::FieldError::new(k, "is given more than once")).collect(),
            ));
        }
    }
    Ok(move |name: &str| params.and_then(|p| p.first(name)))
}

/// A body field as sent: absent, `null`, or a value of the JSON type the field takes (one of
/// another type is refused by serde, naming the field). POST and PATCH bodies declare every
/// field this way and read it through the same parser ([`Fields::required`], [`Fields::optional`]).
#[derive(Debug, Default)]
pub enum Sent<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Sent<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(d)?.map_or(Self::Null, Self::Value))
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Sent<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

impl<T> Sent<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }
}

/// Collects every field's failure, in the order the fields are read, so one 422 reports them all.
#[derive(Default)]
pub struct Fields {
    errors: crate::domain::InvalidFields,
}

impl Fields {
    /// A field every request must send: absent or `null` is "is required".
    pub fn required<R, T>(
        &mut self,
        name: &str,
        sent: Sent<R>,
        parse: impl FnOnce(R) -> Result<T, crate::domain::Invalid>,
    ) -> Option<T> {
        match sent {
            Sent::Absent | Sent::Null => {
                self.errors.0.push((name.to_owned(), "is required".into()));
                None
            }
            Sent::Value(raw) => self.parse(name, raw, parse),
        }
    }

    /// A field a PATCH may send: absent leaves it as it is (`Some(None)`); `null` is refused,
    /// as no field of the API can be cleared; a value is parsed as a POST parses it.
    pub fn optional<R, T>(
        &mut self,
        name: &str,
        sent: Sent<R>,
        parse: impl FnOnce(R) -> Result<T, crate::domain::Invalid>,
    ) -> Option<Option<T>> {
        match sent {
            Sent::Absent => Some(None),
            Sent::Null => {
                self.errors.0.push((name.to_owned(), "must not be null".into()));
                None
            }
            Sent::Value(raw) => self.parse(name, raw, parse).map(Some),
        }
    }

    /// Records a failure found outside a field's parser (a body that sends no field at all).
    pub fn refuse(&mut self, name: &str, invalid: crate::domain::Invalid) {
        self.errors.0.push((name.to_owned(), invalid));
    }

    fn parse<R, T>(
        &mut self,
        name: &str,
        raw: R,
        parse: impl FnOnce(R) -> Result<T, crate::domain::Invalid>,
    ) -> Option<T> {
        parse(raw).map_err(|invalid| self.errors.0.push((name.to_owned(), invalid))).ok()
    }

    /// The parsed values (pass them `zip`ped), or one 422 listing every failure.
    pub fn finish<T>(self, values: Option<T>) -> Result<T, ApiError> {
        match values {
            Some(values) if self.errors.0.is_empty() => Ok(values),
            _ => Err(self.errors.into()),
        }
    }

    /// The failures so far, to answer after a check that comes first (a guard).
    pub fn into_errors(self) -> crate::domain::InvalidFields {
        self.errors
    }
}
