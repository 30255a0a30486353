//! The one error type of the HTTP surface. Every non-2xx API answer is
//! `{"error": {"code", "message", "field"}}`; internal errors are logged with their
//! context and shown as a generic 500.

use serde::Serialize;
use worker::Response;

use crate::domain::Invalid;
use crate::recording::RecordError;
use crate::storage::StorageError;

/// How long a sender waits before retrying after a storage failure.
const STORAGE_RETRY_AFTER_SECONDS: u32 = 5;

#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// A header the answer needs (`Retry-After` on a 429, `Allow` on a 405).
    pub header: Option<(&'static str, String)>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            header: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, "unauthorized", message)
    }

    pub fn too_many_requests(message: impl Into<String>, retry_after_seconds: i64) -> Self {
        Self {
            header: Some(("retry-after", retry_after_seconds.to_string())),
            ..Self::new(429, "too_many_requests", message)
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(404, "not_found", format!("{what} not found"))
    }

    /// `405` with the methods the path does allow.
    pub fn method_not_allowed(allow: String) -> Self {
        Self {
            message: format!("this path allows {allow}"),
            header: Some(("allow", allow)),
            ..Self::new(405, "method_not_allowed", String::new())
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        worker::console_error!("{context}: {error}");
        Self::new(
            500,
            "internal_error",
            "something went wrong on our side; try again later",
        )
    }

    pub fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            error: Detail<'a>,
        }
        #[derive(Serialize)]
        struct Detail<'a> {
            code: &'a str,
            message: &'a str,
            field: Option<&'a str>,
        }
        let body = Body {
            error: Detail {
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        };
        let mut response = super::respond::json(self.status, &body);
        if let Some((name, value)) = &self.header {
            // Setting a valid header on a fresh response cannot fail.
            let _ = response.headers_mut().set(name, value);
        }
        response
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        Self::new(422, invalid.code, invalid.message).with_field(invalid.field)
    }
}

/// Storage failed: a `503` the sender should retry (every write is idempotent, so a
/// retry never counts twice); a corrupt stored value is a `500`. Both are logged.
impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Failed(_) => {
                worker::console_error!("storage: {error}");
                Self {
                    header: Some(("retry-after", STORAGE_RETRY_AFTER_SECONDS.to_string())),
                    ..Self::new(
                        503,
                        "storage_unavailable",
                        "storage failed while handling this request; retry it (a retry is safe and never counts twice)",
                    )
                }
            }
            StorageError::Corrupt { .. } => Self::internal("storage", error),
        }
    }
}

impl From<RecordError> for ApiError {
    fn from(error: RecordError) -> Self {
        match error {
            RecordError::Invalid(invalid) => invalid.into(),
            RecordError::Storage(storage) => storage.into(),
        }
    }
}

impl From<worker::Error> for ApiError {
    fn from(error: worker::Error) -> Self {
        Self::internal("storage", error)
    }
}
