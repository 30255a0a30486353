//! Reading request bodies: raw bytes under a size limit, and JSON into the handlers' body
//! types, with errors that name the field: malformed JSON and unknown fields are `400`,
//! wrong types and missing fields `422`.

use serde::de::DeserializeOwned;
use worker::Request;

use super::error::{ApiError, ApiResult};

/// Admin JSON bodies larger than this are refused before parsing.
const MAX_JSON_BYTES: usize = 64 * 1024;

/// The raw body, refused with `413` when it is larger than `max` bytes.
pub async fn bytes(req: &mut Request, max: usize) -> ApiResult<Vec<u8>> {
    let bytes = req
        .bytes()
        .await
        .map_err(|_| ApiError::bad_request("invalid_body", "the request body could not be read"))?;
    if bytes.len() > max {
        return Err(ApiError::new(
            413,
            "body_too_large",
            format!("the request body is larger than {max} bytes"),
        ));
    }
    Ok(bytes)
}

pub async fn json<T: DeserializeOwned>(req: &mut Request) -> ApiResult<T> {
    parse(&bytes(req, MAX_JSON_BYTES).await?)
}

/// A JSON body that may be left out: no body (or only white space) reads as the default.
pub async fn optional_json<T: DeserializeOwned + Default>(req: &mut Request) -> ApiResult<T> {
    let bytes = bytes(req, MAX_JSON_BYTES).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse(&bytes)
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(bytes) {
        // Every body is an object (serde would also read a struct from an array).
        if !value.is_object() {
            return Err(ApiError::new(
                422,
                "invalid_field",
                "the request body must be a JSON object",
            ));
        }
        // JSON has one kind of number: `30.0` is the whole number 30 (as JSON Schema
        // says), so a body that writes a whole number with a fraction is read with
        // integers instead.
        if whole_numbers_as_integers(&mut value) {
            return serde_path_to_error::deserialize(value).map_err(|error| {
                let path = error.path().to_string();
                classify(error.inner(), &path)
            });
        }
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        classify(error.inner(), &path)
    })?;
    deserializer.end().map_err(|error| classify(&error, "."))?;
    Ok(value)
}

/// Rewrites every number written with a zero fraction (`30.0`, `3e1`) as that integer;
/// whether there was one.
fn whole_numbers_as_integers(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Number(number) if number.is_f64() => {
            // Within ±2^53 every whole f64 is exactly the integer it reads as.
            match number.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 => {
                    *value = Value::from(f as i64);
                    true
                }
                _ => false,
            }
        }
        Value::Array(items) => {
            let mut found = false;
            for item in items {
                found |= whole_numbers_as_integers(item);
            }
            found
        }
        Value::Object(fields) => {
            let mut found = false;
            for item in fields.values_mut() {
                found |= whole_numbers_as_integers(item);
            }
            found
        }
        _ => false,
    }
}

/// Between backticks in serde's messages: "unknown field `colour`, expected …".
fn quoted(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

fn classify(error: &serde_json::Error, path: &str) -> ApiError {
    use serde_json::error::Category;
    let message = error.to_string();
    let field = |name: &str| match path {
        "." | "" => name.to_owned(),
        parent => format!("{parent}.{name}"),
    };
    match error.classify() {
        Category::Io | Category::Syntax | Category::Eof => ApiError::bad_request(
            "invalid_json",
            format!("the request body is not valid JSON: {message}"),
        ),
        Category::Data if message.starts_with("unknown field") => {
            let name = quoted(&message).unwrap_or_default();
            // The path already ends at the unknown field itself.
            let at = if path.ends_with(name) {
                path.to_owned()
            } else {
                field(name)
            };
            ApiError::bad_request("unknown_field", format!("unknown field '{name}'")).with_field(at)
        }
        Category::Data if message.starts_with("missing field") => {
            let name = quoted(&message).unwrap_or_default();
            ApiError::new(422, "missing_field", format!("{name} is required"))
                .with_field(field(name))
        }
        Category::Data => {
            let described = message.split(" at line").next().unwrap_or(&message);
            let error = ApiError::new(422, "invalid_field", format!("{path}: {described}"));
            if path == "." {
                error
            } else {
                error.with_field(path)
            }
        }
    }
}
