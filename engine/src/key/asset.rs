//! [`AssetKey`]: the path that names an asset.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};

/// The longest component, in bytes, that an asset key accepts.
pub const MAX_COMPONENT_LEN: usize = 1024;
/// The most components an asset key accepts.
pub const MAX_COMPONENTS: usize = 64;

/// The key of an asset: a non-empty path of non-empty UTF-8 components, as
/// Dagster's `AssetKey(["public", "weather_obs"])`.
///
/// Any component text is allowed, `/` included: the store's encoding keeps
/// components apart, so `["a", "b"]`, `["a/b"]` and `["ab"]` are three distinct
/// assets that never collide or interleave. Keys order component by component,
/// each component by its bytes. Cloning is a reference-count increment.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AssetKey(Arc<[String]>);

impl AssetKey {
    /// Builds a key from its components.
    ///
    /// # Errors
    /// [`Error::InvalidAssetKey`] when the path is empty, a component is empty,
    /// a component exceeds [`MAX_COMPONENT_LEN`] bytes or the path exceeds
    /// [`MAX_COMPONENTS`] components.
    pub fn new<I, S>(components: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let components: Vec<String> = components.into_iter().map(Into::into).collect();
        validate(&components)?;
        Ok(Self(components.into()))
    }

    /// Parses the displayed form `a/b/c`, splitting on `/`.
    ///
    /// # Errors
    /// As [`AssetKey::new`]; `a//b`, `/a` and `a/` have an empty component.
    pub fn parse(path: &str) -> Result<Self> {
        Self::new(path.split('/'))
    }

    /// The components, outermost first.
    #[must_use]
    pub fn components(&self) -> &[String] {
        &self.0
    }

    /// The last component (Dagster's `asset_key.path[-1]`).
    #[must_use]
    pub fn name(&self) -> &str {
        self.0.last().map_or("", String::as_str)
    }

    /// This key with `prefix` components put in front (Dagster's `key_prefix`).
    ///
    /// # Errors
    /// As [`AssetKey::new`], for an empty prefix component or an over-long path.
    pub fn with_prefix<I, S>(&self, prefix: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut components: Vec<String> = prefix.into_iter().map(Into::into).collect();
        components.extend(self.0.iter().cloned());
        Self::new(components)
    }
}

fn validate(components: &[String]) -> Result<()> {
    let reason = if components.is_empty() {
        Some("an asset key needs at least one component")
    } else if components.len() > MAX_COMPONENTS {
        Some("an asset key has at most 64 components")
    } else if components.iter().any(String::is_empty) {
        Some("asset key components must not be empty")
    } else if components.iter().any(|c| c.len() > MAX_COMPONENT_LEN) {
        Some("an asset key component has at most 1024 bytes")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidAssetKey {
            key: components.to_vec(),
            reason,
        }),
        None => Ok(()),
    }
}

impl fmt::Display for AssetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

impl fmt::Debug for AssetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AssetKey").field(&&*self.0).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_path_and_components() {
        assert!(AssetKey::new(Vec::<String>::new()).is_err());
        assert!(AssetKey::new(["a", ""]).is_err());
        assert!(AssetKey::parse("a//b").is_err());
        assert!(AssetKey::new(["x".repeat(MAX_COMPONENT_LEN + 1)]).is_err());
        assert!(AssetKey::new(vec!["c"; MAX_COMPONENTS + 1]).is_err());
    }

    #[test]
    fn accepts_slashes_inside_components() {
        let key = AssetKey::new(["a/b"]).expect("valid");
        assert_eq!(key.components(), ["a/b"]);
        assert_ne!(key, AssetKey::new(["a", "b"]).expect("valid"));
    }

    #[test]
    fn displays_and_parses_paths() {
        let key = AssetKey::parse("public/weather_obs").expect("valid");
        assert_eq!(key.to_string(), "public/weather_obs");
        assert_eq!(key.name(), "weather_obs");
        let prefixed = key.with_prefix(["warehouse"]).expect("valid");
        assert_eq!(prefixed.to_string(), "warehouse/public/weather_obs");
    }
}
