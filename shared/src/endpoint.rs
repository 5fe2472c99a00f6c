//! The typed declaration of an endpoint: its route, who may call it, what it takes, what
//! it answers and which errors its own checks can give. The pipeline ([`crate::http::run`])
//! resolves the caller and parses the input before the handler runs, so a handler receives
//! both by type; the OpenAPI spec (`infra::openapi`) is derived from the same types.

use std::future::Future;

use http::StatusCode;
use lambda_http::{Request, RequestExt};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::app::App;
use crate::auth::{Caller, ControlCenterCaller};
use crate::error::{ApiError, Code};
use crate::firebase::FirebaseUser;
use crate::routes::{Access, Route};
use crate::store::StoreError;

/// One endpoint. The implementing type's doc comment is the spec's summary (first line)
/// and description (the rest): it derives [`JsonSchema`] only to carry them.
pub trait Endpoint: JsonSchema + Send + Sync + 'static {
    const ROUTE: Route;
    /// The group the spec lists the operation under.
    const TAG: &'static str;
    /// Each success status this endpoint answers, with what it means.
    const SUCCESS: &'static [(StatusCode, &'static str)];
    /// Who the pipeline establishes before the handler runs; it must fit `ROUTE.access`
    /// (checked when the function is compiled).
    type Caller: Resolved;
    type Input: Input;
    /// The envelope's `data`.
    type Output: Serialize + JsonSchema + Send;
    /// The refusals of the handler's own checks; see [`refusals!`](crate::refusals).
    type Error: Refusal;

    fn handle(app: &App, call: Call<Self>) -> impl Future<Output = Result<Reply<Self::Output>, Self::Error>> + Send;
}

/// One call of an endpoint as its handler receives it: the caller and the input the
/// pipeline established, and the request's context.
pub struct Call<E: Endpoint + ?Sized> {
    pub ctx: Ctx,
    pub caller: E::Caller,
    pub input: E::Input,
}

/// What the pipeline knows about the request besides the caller and the input.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub request_id: String,
}

/// A successful answer: a status and the envelope's `data`.
#[derive(Debug)]
pub struct Reply<T> {
    pub status: StatusCode,
    pub data: T,
}

impl<T> Reply<T> {
    pub fn ok(data: T) -> Self {
        Self { status: StatusCode::OK, data }
    }

    pub fn created(data: T) -> Self {
        Self { status: StatusCode::CREATED, data }
    }
}

// ---------------------------------------------------------------------------------------
// Callers

/// The three kinds of caller a route's access rule can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    Anyone,
    Verified,
    ControlCenterUser,
}

impl CallerKind {
    pub const fn of(access: Access) -> Self {
        match access {
            Access::Open => Self::Anyone,
            Access::Token => Self::Verified,
            Access::ControlCenterLogin | Access::ControlCenter(_) => Self::ControlCenterUser,
        }
    }

    pub const fn is(self, other: CallerKind) -> bool {
        self as u8 == other as u8
    }
}

/// A caller type the pipeline can hand a handler.
pub trait Resolved: Sized + Send {
    const KIND: CallerKind;
    /// `None` only when the route table and the caller type disagree, which
    /// [`crate::http::run`] rules out at compile time.
    fn from_caller(caller: Caller) -> Option<Self>;
}

/// An open route's caller: a verified token when one was sent, else nobody.
#[derive(Debug, Clone)]
pub struct Anyone(pub Option<FirebaseUser>);

impl Resolved for Anyone {
    const KIND: CallerKind = CallerKind::Anyone;
    fn from_caller(caller: Caller) -> Option<Self> {
        match caller {
            Caller::Nobody => Some(Self(None)),
            Caller::User(user) => Some(Self(Some(user))),
            Caller::ControlCenterUser(_) => None,
        }
    }
}

impl Resolved for FirebaseUser {
    const KIND: CallerKind = CallerKind::Verified;
    fn from_caller(caller: Caller) -> Option<Self> {
        match caller {
            Caller::User(user) => Some(user),
            _ => None,
        }
    }
}

impl Resolved for ControlCenterCaller {
    const KIND: CallerKind = CallerKind::ControlCenterUser;
    fn from_caller(caller: Caller) -> Option<Self> {
        match caller {
            Caller::ControlCenterUser(caller) => Some(caller),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Input

/// What a request carries for its handler: body, query and path parameters, parsed.
pub trait Input: Sized + Send {
    fn parse(req: &Request) -> Result<Self, ApiError>;
    /// The spec's view of it.
    fn describe(generator: &mut SchemaGenerator) -> InputDoc;
}

/// The documented parts of an input.
#[derive(Debug, Default)]
pub struct InputDoc {
    pub body: Option<Schema>,
    pub params: Vec<Param>,
    /// The codes parsing can answer.
    pub codes: Vec<Code>,
}

/// One query or path parameter.
#[derive(Debug)]
pub struct Param {
    pub name: String,
    /// `query` or `path`.
    pub location: &'static str,
    pub required: bool,
    pub schema: serde_json::Value,
}

/// No input: the body, if any, is ignored.
impl Input for () {
    fn parse(_: &Request) -> Result<Self, ApiError> {
        Ok(())
    }
    fn describe(_: &mut SchemaGenerator) -> InputDoc {
        InputDoc::default()
    }
}

impl<A: Input, B: Input> Input for (A, B) {
    fn parse(req: &Request) -> Result<Self, ApiError> {
        Ok((A::parse(req)?, B::parse(req)?))
    }
    fn describe(generator: &mut SchemaGenerator) -> InputDoc {
        let (a, b) = (A::describe(generator), B::describe(generator));
        let mut codes = a.codes;
        codes.extend(b.codes.into_iter().filter(|c| !codes.contains(c)).collect::<Vec<_>>());
        InputDoc { body: a.body.or(b.body), params: a.params.into_iter().chain(b.params).collect(), codes }
    }
}

/// A JSON body, parsed from its wire form [`Body::Raw`] into domain values.
#[derive(Debug)]
pub struct Json<B>(pub B);

pub trait Body: Sized + Send {
    /// The body as sent; its schema is the spec's request body.
    type Raw: DeserializeOwned + JsonSchema;
    /// The codes parsing can answer.
    const CODES: &'static [Code] = &[Code::Validation];
    fn parse(raw: Self::Raw) -> Result<Self, ApiError>;
}

impl<B: Body> Input for Json<B> {
    fn parse(req: &Request) -> Result<Self, ApiError> {
        B::parse(crate::request::json_body(req)?).map(Json)
    }
    fn describe(generator: &mut SchemaGenerator) -> InputDoc {
        InputDoc { body: Some(generator.subschema_for::<B::Raw>()), params: Vec::new(), codes: B::CODES.to_vec() }
    }
}

/// Query parameters, documented by the properties of [`QueryParams::Doc`].
#[derive(Debug)]
pub struct Query<Q>(pub Q);

pub trait QueryParams: Sized + Send {
    type Doc: JsonSchema;
    fn parse<'r>(get: impl Fn(&str) -> Option<&'r str>) -> Result<Self, ApiError>;
}

impl<Q: QueryParams> Input for Query<Q> {
    fn parse(req: &Request) -> Result<Self, ApiError> {
        Q::parse(crate::request::query(req)?).map(Query)
    }
    fn describe(generator: &mut SchemaGenerator) -> InputDoc {
        InputDoc { body: None, params: params::<Q::Doc>(generator, "query"), codes: vec![Code::Validation] }
    }
}

/// Path parameters: the fields of `P`, each a `{name}` of the route's path.
#[derive(Debug)]
pub struct Path<P>(pub P);

impl<P: DeserializeOwned + JsonSchema + Send> Input for Path<P> {
    fn parse(req: &Request) -> Result<Self, ApiError> {
        let params = req.path_parameters_ref();
        let object: serde_json::Map<String, serde_json::Value> = params
            .map(|p| p.iter().map(|(k, v)| (k.to_owned(), serde_json::Value::String(v.to_owned()))).collect())
            .unwrap_or_default();
        serde_path_to_error::deserialize(serde_json::Value::Object(object)).map(Path).map_err(|err| {
            let field = err.path().to_string();
            ApiError::validation(if field == "." { "path".to_owned() } else { field }, "must be a UUID")
        })
    }
    fn describe(generator: &mut SchemaGenerator) -> InputDoc {
        InputDoc { body: None, params: params::<P>(generator, "path"), codes: vec![Code::Validation] }
    }
}

/// The properties of `T`'s (object) schema, as parameters.
fn params<T: JsonSchema>(generator: &mut SchemaGenerator, location: &'static str) -> Vec<Param> {
    let schema = T::json_schema(generator);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(|r| r.as_array())
        .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let properties = schema.get("properties").and_then(|p| p.as_object()).cloned().unwrap_or_default();
    properties
        .into_iter()
        .map(|(name, schema)| Param {
            required: location == "path" || required.contains(&name.as_str()),
            name,
            location,
            schema,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Refusals

/// A handler's error type: the refusals its own checks can give, each with one code, and
/// failures of the services it calls. Declared with [`refusals!`](crate::refusals), so a
/// code the declaration lacks cannot be returned and the spec lists exactly these codes.
pub trait Refusal: From<StoreError> + Send + 'static {
    const CODES: &'static [Code];
    fn into_api_error(self) -> ApiError;
}

/// A dependency's failure (503 or 500), the one refusal every handler may give. Only
/// storage errors convert into it, so it cannot carry a client error.
#[derive(Debug)]
pub struct DependencyFailed(ApiError);

impl From<StoreError> for DependencyFailed {
    fn from(err: StoreError) -> Self {
        Self(err.into())
    }
}

impl From<DependencyFailed> for ApiError {
    fn from(err: DependencyFailed) -> Self {
        err.0
    }
}

/// A handler that refuses nothing on its own: only its dependencies can fail.
#[derive(Debug)]
pub struct NoRefusal(DependencyFailed);

impl From<StoreError> for NoRefusal {
    fn from(err: StoreError) -> Self {
        Self(err.into())
    }
}

impl Refusal for NoRefusal {
    const CODES: &'static [Code] = &[];
    fn into_api_error(self) -> ApiError {
        self.0.into()
    }
}

/// Declares a handler's refusals: each variant names the [`ApiError`] it answers with, so
/// its code is known at compile time. `Validation(field, message)` builds a one-field 422.
///
/// ```ignore
/// shared::refusals! {
///     pub enum Refused {
///         CustomerNotFound => NotFound("customer not found"),
///         Inactive => AccountInactive("this mitra account is inactive"),
///     }
/// }
/// ```
#[macro_export]
macro_rules! refusals {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $kind:ident $( ( $($arg:expr),* $(,)? ) )? ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A dependency failed.
            Dependency($crate::endpoint::DependencyFailed),
            /// Fields that failed to parse, answered after a guard that comes before validation
            /// (the route declares `VALIDATION_ERROR` among its refusals when it uses this).
            Invalid($crate::domain::InvalidFields),
        }

        impl From<$crate::store::StoreError> for $name {
            fn from(err: $crate::store::StoreError) -> Self {
                Self::Dependency(err.into())
            }
        }

        impl $crate::endpoint::Refusal for $name {
            const CODES: &'static [$crate::error::Code] = &[ $( $crate::error::Code::$kind ),+ ];
            fn into_api_error(self) -> $crate::ApiError {
                match self {
                    $( Self::$variant => $crate::refusals!(@error $kind $( $($arg),* )?), )+
                    Self::Dependency(err) => err.into(),
                    Self::Invalid(fields) => fields.into(),
                }
            }
        }
    };
    (@error Validation $field:expr, $message:expr) => { $crate::ApiError::validation($field, $message) };
    (@error $kind:ident) => { $crate::ApiError::$kind };
    (@error $kind:ident $($arg:expr),+) => { $crate::ApiError::$kind($($arg),+) };
}
