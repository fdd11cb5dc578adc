//! [`MultiPartitionsDefinition`]: the cross product of two definitions.

use super::definition::PartitionsDefinition;
use super::error::{PartitionsError, Result};
use super::validate::INVALID_MULTI_DIMENSION_CHARACTERS;

/// The delimiter between dimension keys (`MULTIPARTITION_KEY_DELIMITER`).
pub const MULTIPARTITION_KEY_DELIMITER: char = '|';

/// One dimension of a multi-partitions definition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dimension {
    /// The dimension's name.
    pub name: String,
    /// The dimension's partitions.
    pub definition: PartitionsDefinition,
}

/// Partitions over two dimensions, as Dagster's `MultiPartitionsDefinition`.
///
/// Dimensions are sorted by name; a key is the dimension keys in that order
/// joined by `|` (`{"static": "a", "date": "2022-01-01"}` is
/// `"2022-01-01|a"`). Keys enumerate the Cartesian product with the first
/// dimension varying slowest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MultiPartitionsDefinition {
    dimensions: Vec<Dimension>,
}

impl MultiPartitionsDefinition {
    /// A definition over exactly two named dimensions, each static, time
    /// window or dynamic.
    ///
    /// # Errors
    /// [`PartitionsError::InvalidDefinition`] for a dimension count other than
    /// 2, an empty or repeated name, a nested multi definition, or a static
    /// key containing `|`, `,`, `[` or `]`.
    pub fn new<I, S>(dimensions: I) -> Result<Self>
    where
        I: IntoIterator<Item = (S, PartitionsDefinition)>,
        S: Into<String>,
    {
        let mut dimensions: Vec<Dimension> = dimensions
            .into_iter()
            .map(|(name, definition)| Dimension {
                name: name.into(),
                definition,
            })
            .collect();
        if dimensions.len() != 2 {
            return Err(invalid(format!(
                "multi-partitions definitions have exactly 2 dimensions, not {}",
                dimensions.len()
            )));
        }
        dimensions.sort_by(|a, b| a.name.cmp(&b.name));
        dimensions.iter().try_for_each(check_dimension)?;
        if dimensions[0].name == dimensions[1].name {
            return Err(invalid(format!(
                "dimension {:?} appears twice",
                dimensions[0].name
            )));
        }
        Ok(Self { dimensions })
    }

    /// The dimensions, sorted by name.
    #[must_use]
    pub fn dimensions(&self) -> &[Dimension] {
        &self.dimensions
    }

    /// The dimension called `name`.
    ///
    /// # Errors
    /// [`PartitionsError::UnknownDimension`].
    pub fn dimension(&self, name: &str) -> Result<&Dimension> {
        self.dimensions
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| PartitionsError::UnknownDimension(name.to_owned()))
    }

    /// The position of the dimension called `name`.
    pub(crate) fn dimension_index(&self, name: &str) -> Result<usize> {
        self.dimensions
            .iter()
            .position(|d| d.name == name)
            .ok_or_else(|| PartitionsError::UnknownDimension(name.to_owned()))
    }

    /// The one time-window dimension, if exactly one is.
    #[must_use]
    pub fn time_dimension(&self) -> Option<&Dimension> {
        let mut time = self
            .dimensions
            .iter()
            .filter(|d| d.definition.is_time_window());
        match (time.next(), time.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }

    /// The key of the per-dimension keys, given in sorted-dimension order.
    #[must_use]
    pub fn join_key(keys: [&str; 2]) -> String {
        format!("{}{MULTIPARTITION_KEY_DELIMITER}{}", keys[0], keys[1])
    }

    /// The per-dimension keys of `key`, in sorted-dimension order (the
    /// structure of Dagster's `MultiPartitionKey`). Whether each exists is
    /// not checked.
    ///
    /// # Errors
    /// [`PartitionsError::KeyNotFound`] when `key` is not two keys joined by `|`.
    pub fn split_key<'k>(&self, key: &'k str) -> Result<[&'k str; 2]> {
        let mut parts = key.split(MULTIPARTITION_KEY_DELIMITER);
        match (parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(b), None) => Ok([a, b]),
            _ => Err(PartitionsError::KeyNotFound {
                key: key.to_owned(),
                definition: format!(
                    "multi ({}, {})",
                    self.dimensions[0].name, self.dimensions[1].name
                ),
            }),
        }
    }

    /// The keys of `key` by dimension name.
    ///
    /// # Errors
    /// As [`MultiPartitionsDefinition::split_key`].
    pub fn keys_by_dimension<'k>(&self, key: &'k str) -> Result<Vec<(&str, &'k str)>> {
        let parts = self.split_key(key)?;
        Ok(self
            .dimensions
            .iter()
            .zip(parts)
            .map(|(d, k)| (d.name.as_str(), k))
            .collect())
    }

    /// The key whose dimension `name` has key `dimension_key` and whose other
    /// dimension has `other_key`.
    pub(crate) fn key_with(&self, index: usize, dimension_key: &str, other_key: &str) -> String {
        if index == 0 {
            Self::join_key([dimension_key, other_key])
        } else {
            Self::join_key([other_key, dimension_key])
        }
    }
}

fn check_dimension(dimension: &Dimension) -> Result<()> {
    if dimension.name.is_empty() {
        return Err(invalid("a dimension name must not be empty".to_owned()));
    }
    match &dimension.definition {
        PartitionsDefinition::Multi(_) => Err(invalid(format!(
            "dimension {:?} is itself a multi-partitions definition",
            dimension.name
        ))),
        PartitionsDefinition::Static(def) => {
            let bad = def
                .keys()
                .iter()
                .find(|k| k.contains(INVALID_MULTI_DIMENSION_CHARACTERS));
            match bad {
                Some(key) => Err(invalid(format!(
                    "static key {key:?} of dimension {:?} contains one of | , [ ]",
                    dimension.name
                ))),
                None => Ok(()),
            }
        }
        PartitionsDefinition::TimeWindow(_) | PartitionsDefinition::Dynamic(_) => Ok(()),
    }
}

fn invalid(reason: String) -> PartitionsError {
    PartitionsError::InvalidDefinition(reason)
}
