//! Turning a partition key into path segments that stay under a base directory.

use crate::error::{Error, Result};

/// The path segments of a partition key, as Dagster lays them out: a `/`
/// nests directories, a leading `/` becomes `%2F`, a `..` or `.` segment is
/// percent-escaped, and `%` itself is escaped as `%25` so that no two keys
/// share a path. Empty segments and NUL bytes are refused.
///
/// # Errors
/// [`Error::UnsafePath`].
pub(crate) fn escape_key(key: &str) -> Result<Vec<String>> {
    let refuse = |reason| Error::UnsafePath {
        key: key.to_owned(),
        reason,
    };
    if key.is_empty() {
        return Err(refuse("the key is empty"));
    }
    if key.contains('\0') {
        return Err(refuse("the key contains a NUL byte"));
    }
    let escaped = key.replace('%', "%25");
    let (leading_slash, relative) = match escaped.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, escaped.as_str()),
    };
    let mut segments = relative
        .split('/')
        .map(|segment| match segment {
            "" => Err(refuse("the key has an empty path segment")),
            "." => Ok("%2E".to_owned()),
            ".." => Ok("%2E%2E".to_owned()),
            other => Ok(other.to_owned()),
        })
        .collect::<Result<Vec<String>>>()?;
    if let Some(first) = segments.first_mut().filter(|_| leading_slash) {
        first.insert_str(0, "%2F");
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::escape_key;

    #[test]
    fn keys_become_segments_that_stay_below_the_base() {
        let cases: &[(&str, &[&str])] = &[
            ("2022-07-23", &["2022-07-23"]),
            ("0.0-to-1.0", &["0.0-to-1.0"]),
            ("a/b", &["a", "b"]),
            ("/abs", &["%2Fabs"]),
            ("../etc/passwd", &["%2E%2E", "etc", "passwd"]),
            ("a/./b", &["a", "%2E", "b"]),
            ("/..", &["%2F%2E%2E"]),
            ("100%", &["100%25"]),
            ("%2Fabs", &["%252Fabs"]),
        ];
        for (key, expected) in cases {
            let segments = escape_key(key).expect("a valid key");
            assert_eq!(&segments, expected, "key {key:?}");
        }
    }

    #[test]
    fn empty_segments_and_nul_are_refused() {
        for key in ["", "a//b", "a/", "//x", "/", "a\0b"] {
            assert!(escape_key(key).is_err(), "key {key:?} must be refused");
        }
    }
}
