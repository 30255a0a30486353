//! Small validated strings shared by the admin resources.

use super::Invalid;

/// A required human-readable name: trimmed, 1 to `max` characters.
pub fn name(field: &'static str, raw: &str, max: usize) -> Result<String, Invalid> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(Invalid::new(
            field,
            "empty",
            format!("{field} must not be empty"),
        ));
    }
    if trimmed.chars().count() > max {
        return Err(Invalid::new(
            field,
            "too_long",
            format!("{field} is longer than {max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// An optional free-text label (tier, region): trimmed, empty becomes `None`.
pub fn optional_label(
    field: &'static str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, Invalid> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => name(field, value, max).map(Some),
    }
}

/// Defines a closed set of snake_case values that travel as strings in JSON and SQL.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Result<Self, $crate::domain::Invalid> {
                match raw {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::domain::Invalid::new(
                        $field,
                        "invalid_value",
                        format!(
                            "{} must be one of: {}",
                            $field,
                            [$($text),+].join(", ")
                        ),
                    )),
                }
            }
        }
    };
}
pub(crate) use string_enum;

#[cfg(test)]
mod tests {
    use super::*;

    string_enum!(Colour, "colour" { Red = "red", DarkBlue = "dark_blue" });

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  Acme ", 10).unwrap(), "Acme");
        assert_eq!(name("name", "   ", 10).unwrap_err().code, "empty");
        assert_eq!(name("name", "abcdef", 5).unwrap_err().code, "too_long");
    }

    #[test]
    fn empty_labels_become_none() {
        assert_eq!(optional_label("tier", Some(" "), 10).unwrap(), None);
        assert_eq!(
            optional_label("tier", Some("gold"), 10).unwrap(),
            Some("gold".into())
        );
    }

    #[test]
    fn string_enums_round_trip_and_name_the_choices() {
        assert_eq!(Colour::parse("dark_blue").unwrap(), Colour::DarkBlue);
        assert_eq!(Colour::Red.as_str(), "red");
        let err = Colour::parse("green").unwrap_err();
        assert_eq!(err.field, "colour");
        assert!(err.message.contains("red, dark_blue"));
    }
}
