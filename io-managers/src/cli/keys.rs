//! One printed form for asset and partition keys that round-trips: a
//! component holding `/`, `\` or a control character is escaped (`\/`, `\\`,
//! `\n`, `\t`, `\r`, `\u{7f}`), components are joined by `/`, and every
//! command parses that same form back. `["a", "b"]` prints as `a/b`,
//! `["a/b"]` as `a\/b`.

use std::fmt;

use tessera_engine::AssetKey;

/// An asset key as the CLI prints it.
pub(crate) struct ShownAsset<'a>(&'a [String]);

/// The printed form of `asset`.
pub(crate) fn shown(asset: &AssetKey) -> ShownAsset<'_> {
    ShownAsset(asset.components())
}

/// The printed form of an asset key given as its components.
pub(crate) fn shown_components(components: &[String]) -> ShownAsset<'_> {
    ShownAsset(components)
}

impl fmt::Display for ShownAsset<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (at, component) in self.0.iter().enumerate() {
            if at > 0 {
                f.write_str("/")?;
            }
            write_escaped(f, component, true)?;
        }
        Ok(())
    }
}

/// A partition key as the CLI prints it (`\` and control characters escaped).
pub(crate) struct ShownPartition<'a>(&'a str);

/// The printed form of a partition key.
pub(crate) fn shown_partition(key: &str) -> ShownPartition<'_> {
    ShownPartition(key)
}

impl fmt::Display for ShownPartition<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.0, false)
    }
}

fn write_escaped(f: &mut fmt::Formatter<'_>, text: &str, slash: bool) -> fmt::Result {
    for c in text.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '/' if slash => f.write_str("\\/")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
            c => write!(f, "{c}")?,
        }
    }
    Ok(())
}

/// A key the command line could not read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyError {
    /// A `\` not followed by a known escape.
    #[error(
        "{text:?}: unknown escape at character {at} (use \\\\, \\/, \\n, \\t, \\r or \\u{{hex}})"
    )]
    BadEscape {
        /// The text given.
        text: String,
        /// Where the escape starts (in characters).
        at: usize,
    },
    /// The engine refused the key.
    #[error(transparent)]
    Engine(#[from] tessera_engine::Error),
}

/// Parses the printed form of an asset key.
pub(crate) fn parse_asset(text: &str) -> Result<AssetKey, KeyError> {
    Ok(AssetKey::new(split_unescaped(text, true)?)?)
}

/// Parses the printed form of a partition key.
pub(crate) fn parse_partition(text: &str) -> Result<String, KeyError> {
    let mut parts = split_unescaped(text, false)?;
    Ok(parts.pop().unwrap_or_default())
}

/// Unescapes `text`, splitting it at unescaped `/` when `split`.
fn split_unescaped(text: &str, split: bool) -> Result<Vec<String>, KeyError> {
    let bad = |at: usize| KeyError::BadEscape {
        text: text.to_owned(),
        at,
    };
    let mut parts = vec![String::new()];
    let mut chars = text.chars().enumerate();
    while let Some((at, c)) = chars.next() {
        let current = parts.last_mut().ok_or_else(|| bad(at))?;
        match c {
            '/' if split => parts.push(String::new()),
            '\\' => current.push(match chars.next().map(|(_, c)| c) {
                Some('\\') => '\\',
                Some('/') => '/',
                Some('n') => '\n',
                Some('t') => '\t',
                Some('r') => '\r',
                Some('u') => unicode_escape(&mut chars).ok_or_else(|| bad(at))?,
                _ => return Err(bad(at)),
            }),
            c => current.push(c),
        }
    }
    Ok(parts)
}

/// The character of `{hex}` after `\u`.
fn unicode_escape(chars: &mut impl Iterator<Item = (usize, char)>) -> Option<char> {
    if chars.next()?.1 != '{' {
        return None;
    }
    let mut hex = String::new();
    for (_, c) in chars.by_ref() {
        if c == '}' {
            return char::from_u32(u32::from_str_radix(&hex, 16).ok()?);
        }
        hex.push(c);
    }
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn key(components: &[&str]) -> AssetKey {
        AssetKey::new(components.iter().copied()).expect("valid key")
    }

    #[test]
    fn a_slash_inside_a_component_is_escaped() {
        assert_eq!(shown(&key(&["a", "b"])).to_string(), "a/b");
        assert_eq!(shown(&key(&["a/b"])).to_string(), "a\\/b");
        assert_eq!(parse_asset("a\\/b").expect("parses"), key(&["a/b"]));
        assert_eq!(parse_asset("a/b").expect("parses"), key(&["a", "b"]));
    }

    #[test]
    fn control_characters_are_never_printed_raw() {
        let shown = shown(&key(&["bell\u{7}", "line\nbreak"])).to_string();
        assert_eq!(shown, "bell\\u{7}/line\\nbreak");
        assert!(!shown.chars().any(char::is_control));
        assert_eq!(
            shown_partition("2024\u{1b}[31m").to_string(),
            "2024\\u{1b}[31m"
        );
    }

    #[test]
    fn a_bad_escape_is_an_error_naming_the_text() {
        let error = parse_asset("a\\qb").expect_err("\\q is no escape");
        assert!(error.to_string().contains("a\\\\qb"), "{error}");
        assert!(parse_asset("a\\u{zz}").is_err());
        assert!(parse_asset("trailing\\").is_err());
    }

    proptest! {
        #[test]
        fn every_asset_key_round_trips(components in prop::collection::vec("\\PC{1,6}|[/\\\\\n\u{0}-\u{1f}a]{1,4}", 1..4)) {
            let asset = AssetKey::new(components.iter().map(String::as_str)).expect("valid key");
            let printed = shown(&asset).to_string();
            prop_assert!(!printed.chars().any(char::is_control));
            prop_assert_eq!(parse_asset(&printed).expect("parses"), asset);
        }

        #[test]
        fn every_partition_key_round_trips(partition in "\\PC{0,8}|[/\\\\\n\u{0}-\u{1f}a]{1,6}") {
            let printed = shown_partition(&partition).to_string();
            prop_assert!(!printed.chars().any(char::is_control));
            prop_assert_eq!(parse_partition(&printed).expect("parses"), partition);
        }
    }
}
