//! Partner materials: a banner (an https image of a given size) or a text snippet that a
//! partner places with its own tracking link and impression pixel. What a material is,
//! how it is checked, the parameter that carries it on `/r/` and `/i/`, and the HTML a
//! partner pastes.

use crate::domain::text::name;
use crate::domain::Invalid;

/// The query parameter of `/r/{code}` and `/i/{code}` that names the material.
pub const MATERIAL_PARAM: &str = "m";
pub const NAME_MAX_LEN: usize = 200;
pub const TEXT_MAX_LEN: usize = 2000;
pub const IMAGE_URL_MAX_LEN: usize = 2048;
pub const MAX_SIZE_PX: u32 = 4000;
const ID_PREFIX: &str = "mat_";
const ID_MAX_LEN: usize = 40;

/// Whether `raw` can be a material id (`mat_` and URL-safe characters): anything else on
/// the `m` parameter is ignored at the edge, before storage is touched.
pub fn is_material_id(raw: &str) -> bool {
    raw.len() <= ID_MAX_LEN
        && raw.strip_prefix(ID_PREFIX).is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

/// A material's content as a manager sets it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Banner {
        image_url: String,
        width: u32,
        height: u32,
    },
    Text {
        body: String,
    },
}

impl Content {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Banner { .. } => "banner",
            Self::Text { .. } => "text",
        }
    }
}

/// A material's fields as they arrive.
#[derive(Debug, Clone, Default)]
pub struct NewMaterial<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub image_url: Option<&'a str>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub text: Option<&'a str>,
}

fn invalid(field: &'static str, code: &'static str, message: impl Into<String>) -> Invalid {
    Invalid::new(field, code, message)
}

/// Checks a new material: a name; a banner has an absolute https `image_url` and its
/// `width` and `height` (1 to 4000 px) and no `text`; a text material has `text` (1 to
/// 2000 characters) and none of the banner's fields.
pub fn parse(raw: &NewMaterial<'_>) -> Result<(String, Content), Invalid> {
    let label = name("name", raw.name, NAME_MAX_LEN)?;
    let content = match raw.kind {
        "banner" => {
            if raw.text.is_some() {
                return Err(invalid(
                    "text",
                    "unexpected_field",
                    "a banner has an image, not text",
                ));
            }
            let image_url = raw
                .image_url
                .ok_or_else(|| invalid("image_url", "missing_field", "a banner needs image_url"))?;
            let url = url::Url::parse(image_url)
                .ok()
                .filter(|u| u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()))
                .filter(|u| u.username().is_empty() && u.password().is_none())
                .filter(|_| image_url.len() <= IMAGE_URL_MAX_LEN)
                .ok_or_else(|| {
                    invalid(
                        "image_url",
                        "invalid_url",
                        format!(
                            "image_url must be an absolute https URL of at most {IMAGE_URL_MAX_LEN} characters"
                        ),
                    )
                })?;
            let size = |field: &'static str, value: Option<u32>| {
                let value = value.ok_or_else(|| {
                    invalid(
                        field,
                        "missing_field",
                        format!("a banner needs its {field} in pixels"),
                    )
                })?;
                if (1..=MAX_SIZE_PX).contains(&value) {
                    Ok(value)
                } else {
                    Err(invalid(
                        field,
                        "out_of_range",
                        format!("{field} is 1 to {MAX_SIZE_PX} pixels"),
                    ))
                }
            };
            Content::Banner {
                image_url: url.into(),
                width: size("width", raw.width)?,
                height: size("height", raw.height)?,
            }
        }
        "text" => {
            for (field, present) in [
                ("image_url", raw.image_url.is_some()),
                ("width", raw.width.is_some()),
                ("height", raw.height.is_some()),
            ] {
                if present {
                    return Err(invalid(
                        field,
                        "unexpected_field",
                        format!("a text material has no {field}"),
                    ));
                }
            }
            let body = raw
                .text
                .ok_or_else(|| invalid("text", "missing_field", "a text material needs text"))?;
            Content::Text {
                body: name("text", body, TEXT_MAX_LEN)?,
            }
        }
        _ => {
            return Err(invalid(
                "kind",
                "invalid_value",
                "kind must be one of: banner, text",
            ))
        }
    };
    Ok((label, content))
}

/// `value` safe inside HTML text and double-quoted attributes.
pub fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The tracking link and pixel of a material for the link at `base/r/{code}`.
pub fn urls(base: &str, code: &str, material_id: &str) -> (String, String) {
    let base = base.trim_end_matches('/');
    (
        format!("{base}/r/{code}?{MATERIAL_PARAM}={material_id}"),
        format!("{base}/i/{code}?{MATERIAL_PARAM}={material_id}"),
    )
}

/// The HTML a partner pastes: the material inside its tracking link, and the 1×1
/// impression pixel beside it (counted when the page shows it).
pub fn snippet(name: &str, content: &Content, click_url: &str, pixel_url: &str) -> String {
    let (href, pixel) = (escape_html(click_url), escape_html(pixel_url));
    let inner = match content {
        Content::Banner {
            image_url,
            width,
            height,
        } => format!(
            "<img src=\"{}\" width=\"{width}\" height=\"{height}\" alt=\"{}\" style=\"border:0\">",
            escape_html(image_url),
            escape_html(name)
        ),
        Content::Text { body } => escape_html(body),
    };
    format!(
        "<a href=\"{href}\" rel=\"sponsored noopener\" target=\"_blank\">{inner}</a>\
         <img src=\"{pixel}\" width=\"1\" height=\"1\" alt=\"\" style=\"position:absolute;border:0\">"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn banner<'a>() -> NewMaterial<'a> {
        NewMaterial {
            name: " Winter 300×250 ",
            kind: "banner",
            image_url: Some("https://cdn.shop.example/w.png"),
            width: Some(300),
            height: Some(250),
            text: None,
        }
    }

    #[test]
    fn banners_and_texts_are_checked_with_the_field_named() {
        let (label, content) = parse(&banner()).unwrap();
        assert_eq!(label, "Winter 300×250");
        assert_eq!(content.kind(), "banner");
        for (raw, field, code) in [
            (
                NewMaterial {
                    image_url: Some("http://x.example/a.png"),
                    ..banner()
                },
                "image_url",
                "invalid_url",
            ),
            (
                NewMaterial {
                    image_url: None,
                    ..banner()
                },
                "image_url",
                "missing_field",
            ),
            (
                NewMaterial {
                    width: Some(0),
                    ..banner()
                },
                "width",
                "out_of_range",
            ),
            (
                NewMaterial {
                    height: Some(4001),
                    ..banner()
                },
                "height",
                "out_of_range",
            ),
            (
                NewMaterial {
                    height: None,
                    ..banner()
                },
                "height",
                "missing_field",
            ),
            (
                NewMaterial {
                    text: Some("hi"),
                    ..banner()
                },
                "text",
                "unexpected_field",
            ),
            (
                NewMaterial {
                    kind: "video",
                    ..banner()
                },
                "kind",
                "invalid_value",
            ),
            (
                NewMaterial {
                    name: "  ",
                    ..banner()
                },
                "name",
                "empty",
            ),
            (
                NewMaterial {
                    kind: "text",
                    text: Some("Buy"),
                    ..banner()
                },
                "image_url",
                "unexpected_field",
            ),
            (
                NewMaterial {
                    kind: "text",
                    image_url: None,
                    width: None,
                    height: None,
                    ..banner()
                },
                "text",
                "missing_field",
            ),
        ] {
            let error = parse(&raw).unwrap_err();
            assert_eq!((error.field, error.code), (field, code), "{raw:?}");
        }
        let text = NewMaterial {
            kind: "text",
            image_url: None,
            width: None,
            height: None,
            text: Some(" Warm coats, −20 % "),
            ..banner()
        };
        assert_eq!(
            parse(&text).unwrap().1,
            Content::Text {
                body: "Warm coats, −20 %".into()
            }
        );
    }

    #[test]
    fn only_well_formed_ids_ride_on_the_parameter() {
        assert!(is_material_id("mat_AbC-_9"));
        for bad in [
            "",
            "mat_",
            "prg_x",
            "mat_a b",
            "mat_<x>",
            &format!("mat_{}", "a".repeat(40)),
        ] {
            assert!(!is_material_id(bad), "{bad}");
        }
    }

    #[test]
    fn the_snippet_links_the_material_and_carries_the_pixel_escaped() {
        let (click, pixel) = urls("https://go.example/", "anna", "mat_1");
        assert_eq!(click, "https://go.example/r/anna?m=mat_1");
        assert_eq!(pixel, "https://go.example/i/anna?m=mat_1");
        let html = snippet(
            "Coats \"-20%\"",
            &Content::Banner {
                image_url: "https://cdn.example/a.png?x=1&y=2".into(),
                width: 300,
                height: 250,
            },
            &click,
            &pixel,
        );
        assert_eq!(
            html,
            "<a href=\"https://go.example/r/anna?m=mat_1\" rel=\"sponsored noopener\" target=\"_blank\">\
             <img src=\"https://cdn.example/a.png?x=1&amp;y=2\" width=\"300\" height=\"250\" alt=\"Coats &quot;-20%&quot;\" style=\"border:0\"></a>\
             <img src=\"https://go.example/i/anna?m=mat_1\" width=\"1\" height=\"1\" alt=\"\" style=\"position:absolute;border:0\">"
        );
        let text = snippet(
            "t",
            &Content::Text {
                body: "<b>Sale</b> & more".into(),
            },
            &click,
            &pixel,
        );
        assert!(
            text.contains(">&lt;b&gt;Sale&lt;/b&gt; &amp; more</a>"),
            "{text}"
        );
    }
}
