//! Building responses.

use serde::Serialize;
use worker::{Headers, Response};

/// A JSON response. Serialising our own types cannot fail; if it ever did, the answer is
/// still a JSON 500 rather than a panic.
pub fn json<T: Serialize>(status: u16, body: &T) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| {
        r#"{"error":{"code":"internal_error","message":"response could not be encoded","field":null}}"#
            .to_owned()
    });
    with_headers(
        status,
        text.into_bytes(),
        &[("content-type", "application/json")],
    )
}

/// A response with a fixed body and headers.
pub fn with_headers(status: u16, body: Vec<u8>, headers: &[(&str, &str)]) -> Response {
    let map = Headers::new();
    for (name, value) in headers {
        // Header names and values here are constants or checked URLs: always valid.
        let _ = map.set(name, value);
    }
    let builder = Response::builder().with_status(status).with_headers(map);
    if body.is_empty() {
        // No body at all (a redirect, a 204), rather than an empty byte array to copy.
        builder.empty()
    } else {
        builder.fixed(body)
    }
}
