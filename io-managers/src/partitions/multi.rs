//! [`MultiPartitionsDefinition`]: the cross product of two (or more) definitions.

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

/// Partitions over two dimensions, as Dagster's `MultiPartitionsDefinition`,
/// or over more (a Tessera extension, [`MultiPartitionsDefinition::with_dimensions`]).
///
/// Dimensions are sorted by name; a key is the dimension keys in that order
/// joined by `|` (`{"static": "a", "date": "2022-01-01"}` is
/// `"2022-01-01|a"`; three dimensions give `a|b|c`). Keys enumerate the
/// Cartesian product with the first dimension varying slowest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MultiPartitionsDefinition {
    dimensions: Vec<Dimension>,
}

impl MultiPartitionsDefinition {
    /// A definition over exactly two named dimensions, each static, time
    /// window or dynamic: Dagster's constructor, with its limit.
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
        let def = Self::with_dimensions(dimensions)?;
        if def.dimensions.len() != 2 {
            return Err(invalid(format!(
                "multi-partitions definitions have exactly 2 dimensions, not {} \
                 (MultiPartitionsDefinition::with_dimensions takes more)",
                def.dimensions.len()
            )));
        }
        Ok(def)
    }

    /// A definition over two or more named dimensions (Dagster stops at two,
    /// dagster #21177). Keys, order, mappings and the filesystem layout
    /// extend the two-dimension rules: `a|b|c` in sorted-dimension order, the
    /// first dimension slowest, one directory level per dimension.
    ///
    /// # Errors
    /// As [`MultiPartitionsDefinition::new`], for fewer than 2 dimensions.
    pub fn with_dimensions<I, S>(dimensions: I) -> Result<Self>
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
        if dimensions.len() < 2 {
            return Err(invalid(format!(
                "multi-partitions definitions have at least 2 dimensions, not {}",
                dimensions.len()
            )));
        }
        dimensions.sort_by(|a, b| a.name.cmp(&b.name));
        dimensions.iter().try_for_each(check_dimension)?;
        if let Some(pair) = dimensions.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(invalid(format!(
                "dimension {:?} appears twice",
                pair[0].name
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
    pub fn join_key<I, S>(keys: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut key = String::new();
        for (i, part) in keys.into_iter().enumerate() {
            if i > 0 {
                key.push(MULTIPARTITION_KEY_DELIMITER);
            }
            key.push_str(part.as_ref());
        }
        key
    }

    /// The per-dimension keys of `key`, in sorted-dimension order (the
    /// structure of Dagster's `MultiPartitionKey`). Whether each exists is
    /// not checked.
    ///
    /// # Errors
    /// [`PartitionsError::KeyNotFound`] when `key` is not one key per
    /// dimension joined by `|`.
    pub fn split_key<'k>(&self, key: &'k str) -> Result<Vec<&'k str>> {
        let parts: Vec<&str> = key.split(MULTIPARTITION_KEY_DELIMITER).collect();
        if parts.len() == self.dimensions.len() {
            return Ok(parts);
        }
        let names: Vec<&str> = self.dimensions.iter().map(|d| d.name.as_str()).collect();
        Err(PartitionsError::KeyNotFound {
            key: key.to_owned(),
            definition: format!("multi ({})", names.join(", ")),
        })
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

    /// The keys of the Cartesian product of per-dimension key lists (in
    /// sorted-dimension order), the first dimension varying slowest.
    pub(crate) fn product(per_dimension: &[Vec<String>]) -> Vec<String> {
        let total = per_dimension
            .iter()
            .try_fold(1usize, |n, keys| n.checked_mul(keys.len()))
            .unwrap_or(0);
        let mut keys = Vec::with_capacity(total);
        if total == 0 {
            return keys;
        }
        let mut at = vec![0usize; per_dimension.len()];
        loop {
            keys.push(Self::join_key(
                per_dimension.iter().zip(&at).map(|(list, &i)| &list[i]),
            ));
            let Some(carry) = (0..at.len())
                .rev()
                .find(|&d| at[d] + 1 < per_dimension[d].len())
            else {
                return keys;
            };
            at[carry] += 1;
            at[carry + 1..].iter_mut().for_each(|i| *i = 0);
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
