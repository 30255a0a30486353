//! What can go wrong below the services: D1 or KV failing (worth retrying), or a stored
//! value that is not one partnerlens writes (a bug or a hand edit, never the caller's
//! fault). Services wrap it in their own errors; the HTTP layer answers a logged 5xx.

use std::fmt;

#[derive(Debug)]
pub enum StorageError {
    /// A binding refused or failed a call.
    Failed(String),
    /// A stored value could not be read back as its domain type.
    Corrupt { what: &'static str, detail: String },
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

impl StorageError {
    pub fn corrupt(what: &'static str, detail: impl fmt::Display) -> Self {
        StorageError::Corrupt {
            what,
            detail: detail.to_string(),
        }
    }

    /// The same error, saying what was being done.
    pub fn context(self, doing: &str) -> Self {
        match self {
            StorageError::Failed(detail) => StorageError::Failed(format!("{doing}: {detail}")),
            StorageError::Corrupt { what, detail } => StorageError::Corrupt {
                what,
                detail: format!("{doing}: {detail}"),
            },
        }
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Failed(detail) => write!(f, "storage failed: {detail}"),
            StorageError::Corrupt { what, detail } => {
                write!(f, "a stored {what} is corrupt: {detail}")
            }
        }
    }
}

impl std::error::Error for StorageError {}

impl From<worker::Error> for StorageError {
    /// A row that does not deserialize into its typed struct holds a value partnerlens
    /// never writes: corrupt, not a failure worth retrying.
    fn from(error: worker::Error) -> Self {
        match error {
            worker::Error::SerdeWasmBindgenError(e) => StorageError::corrupt("row", e),
            worker::Error::SerdeJsonError(e) => StorageError::corrupt("row", e),
            other => StorageError::Failed(other.to_string()),
        }
    }
}

impl From<worker::kv::KvError> for StorageError {
    fn from(error: worker::kv::KvError) -> Self {
        StorageError::Failed(format!("KV: {error}"))
    }
}

/// `.context("…")` on a storage result.
pub trait Context<T> {
    fn context(self, doing: &str) -> Result<T>;
}

impl<T> Context<T> for Result<T> {
    fn context(self, doing: &str) -> Result<T> {
        self.map_err(|error| error.context(doing))
    }
}
