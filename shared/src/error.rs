//! The API's one error type and its mapping to status codes and error codes.
//! Every other layer's error converts into [`ApiError`]; nothing else decides a status.

use http::StatusCode;
use serde::Serialize;

use crate::auth::Denied;
use crate::domain::{CustomerNameError, InvalidFields};
use crate::store::StoreError;

/// One field that failed validation, reported in `error.details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// One list: each code's variant, status, name and meaning (for the spec).
macro_rules! codes {
    ($($variant:ident => $status:ident, $name:literal, $meaning:literal;)*) => {
        /// The contract's error codes. Each has one status; an endpoint's declaration lists the
        /// codes it can answer, and the spec and the envelope both read them from here.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            pub const fn status(self) -> StatusCode {
                match self {
                    $(Self::$variant => StatusCode::$status,)*
                }
            }

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }

            /// What the code means, for the spec.
            pub const fn meaning(self) -> &'static str {
                match self {
                    $(Self::$variant => $meaning,)*
                }
            }
        }
    };
}

codes! {
    Unauthorized => UNAUTHORIZED, "UNAUTHORIZED", "missing or invalid Firebase ID token";
    Forbidden => FORBIDDEN, "FORBIDDEN", "valid token but insufficient role or permission";
    NotFound => NOT_FOUND, "NOT_FOUND", "resource not found";
    Validation => UNPROCESSABLE_ENTITY, "VALIDATION_ERROR",
        "request body or parameters failed validation; `details` names each field";
    AccountNotFound => NOT_FOUND, "ACCOUNT_NOT_FOUND", "phone number not registered as mitra";
    AccountInactive => FORBIDDEN, "ACCOUNT_INACTIVE", "the account (mitra or control-center user) is inactive";
    DisplayNameRequired => UNPROCESSABLE_ENTITY, "DISPLAY_NAME_REQUIRED", "display name missing, null or blank";
    AlreadyRegistered => CONFLICT, "ALREADY_REGISTERED",
        "customer already linked, or the identity belongs to another customer";
    Conflict => CONFLICT, "CONFLICT", "the phone or email is already registered";
    PayloadTooLarge => PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", "request body over 64 KiB";
    UnsupportedMediaType => UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE",
        "a non-empty body without `Content-Type: application/json`";
    MethodNotAllowed => METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "method not allowed on this path";
    Unavailable => SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE",
        "a dependency is throttling or unreachable; retry after `Retry-After` seconds";
    Internal => INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "unexpected server error (a bug)";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("request failed validation")]
    Validation(Vec<FieldError>),
    #[error("no mitra account is registered for this phone number")]
    AccountNotFound,
    /// The account (a mitra's, a control-center user's) is deactivated; the message names which.
    #[error("{0}")]
    AccountInactive(&'static str),
    #[error("display_name is required")]
    DisplayNameRequired,
    #[error("{0}")]
    AlreadyRegistered(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    #[error("request body is larger than 64 KiB")]
    PayloadTooLarge,
    #[error("a request body must be sent as Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("method not allowed on this path")]
    MethodNotAllowed,
    #[error("no route matches this path")]
    RouteNotFound,
    /// A dependency is throttling or unreachable; the cause is logged, never returned.
    #[error("a dependency is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A bug or an unexpected failure; the cause is logged, never returned.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        self.code().status()
    }

    pub const fn code(&self) -> Code {
        match self {
            Self::Unauthorized(_) => Code::Unauthorized,
            Self::Forbidden(_) => Code::Forbidden,
            Self::NotFound(_) | Self::RouteNotFound => Code::NotFound,
            Self::Validation(_) => Code::Validation,
            Self::AccountNotFound => Code::AccountNotFound,
            Self::AccountInactive(_) => Code::AccountInactive,
            Self::DisplayNameRequired => Code::DisplayNameRequired,
            Self::AlreadyRegistered(_) => Code::AlreadyRegistered,
            Self::Conflict(_) => Code::Conflict,
            Self::PayloadTooLarge => Code::PayloadTooLarge,
            Self::UnsupportedMediaType => Code::UnsupportedMediaType,
            Self::MethodNotAllowed => Code::MethodNotAllowed,
            Self::Unavailable(_) => Code::Unavailable,
            Self::Internal(_) => Code::Internal,
        }
    }

    /// The message a caller sees. Internal causes never appear here.
    pub fn public_message(&self) -> String {
        match self {
            Self::Unavailable(_) => "a backing service is unavailable, retry shortly".into(),
            Self::Internal(_) => "unexpected server error".into(),
            other => other.to_string(),
        }
    }

    /// The envelope's `error` object.
    pub fn body(&self) -> serde_json::Value {
        let mut error = serde_json::json!({ "code": self.code().as_str(), "message": self.public_message() });
        if let Self::Validation(details) = self {
            error["details"] = serde_json::to_value(details).unwrap_or_default();
        }
        serde_json::json!({ "success": false, "error": error })
    }

    /// The internal cause, for the log line of the failed request.
    pub fn cause(&self) -> Option<&anyhow::Error> {
        match self {
            Self::Unavailable(e) | Self::Internal(e) => Some(e),
            _ => None,
        }
    }
}

/// The lower layers' errors as the caller sees them: the only place they become HTTP answers.
impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(e) => Self::Unavailable(e),
            StoreError::Failed(e) => Self::Internal(e),
        }
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::Unauthenticated(message) => Self::Unauthorized(message),
            Denied::Forbidden(message) => Self::Forbidden(message),
            Denied::NoAccount(message) => Self::NotFound(message),
            Denied::Inactive => Self::AccountInactive("this control-center account is inactive"),
            Denied::KeysUnavailable(cause) => Self::Unavailable(cause),
            Denied::Store(err) => err.into(),
        }
    }
}

impl From<InvalidFields> for ApiError {
    fn from(InvalidFields(fields): InvalidFields) -> Self {
        Self::Validation(fields.into_iter().map(|(field, invalid)| FieldError::new(field, invalid.message())).collect())
    }
}

impl From<CustomerNameError> for ApiError {
    fn from(err: CustomerNameError) -> Self {
        match err {
            CustomerNameError::Missing => Self::DisplayNameRequired,
            CustomerNameError::Invalid(invalid) => InvalidFields(vec![("display_name".to_owned(), invalid)]).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_error_body_never_contains_the_cause() {
        let err = ApiError::Internal(anyhow::anyhow!("dynamodb said: secret table arn"));
        let body = err.body().to_string();
        assert!(!body.contains("secret"), "{body}");
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn validation_error_body_lists_field_details() {
        let err = ApiError::validation("phone", "must be an Indonesian mobile number");
        let body = err.body();
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
        assert_eq!(body["error"]["details"][0]["field"], "phone");
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn a_missing_customer_name_is_display_name_required_and_a_bad_one_a_validation_error_on_display_name() {
        let missing = ApiError::from(CustomerNameError::Missing);
        assert_eq!(
            (missing.status(), missing.code().as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "DISPLAY_NAME_REQUIRED")
        );
        let long = ApiError::from(CustomerNameError::Invalid("must be at most 50 characters".into()));
        assert_eq!(
            long.body()["error"]["details"],
            serde_json::json!([
                { "field": "display_name", "message": "must be at most 50 characters" }
            ])
        );
    }

    #[test]
    fn unavailable_maps_to_503_with_a_generic_message() {
        let err = ApiError::Unavailable(anyhow::anyhow!("ThrottlingException: rate exceeded"));
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(err.code().as_str(), "SERVICE_UNAVAILABLE");
        assert!(!err.body().to_string().contains("Throttling"));
    }
}
