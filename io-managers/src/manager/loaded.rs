//! The shapes a loaded input takes.

use std::collections::HashMap;

/// Values keyed by partition key, in a deterministic order: the upstream
/// definition's (chronological for time windows, definition order for static
/// and multi, insertion order for dynamic).
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionMap<T> {
    entries: Vec<(String, T)>,
    positions: HashMap<String, usize>,
}

impl<T> Default for PartitionMap<T> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            positions: HashMap::new(),
        }
    }
}

impl<T> PartitionMap<T> {
    /// Appends `value` under `key`, replacing an earlier value of the same key.
    pub fn push(&mut self, key: impl Into<String>, value: T) {
        let key = key.into();
        match self.positions.get(&key) {
            Some(&at) => self.entries[at].1 = value,
            None => {
                self.positions.insert(key.clone(), self.entries.len());
                self.entries.push((key, value));
            }
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.positions.get(key).map(|&at| &self.entries[at].1)
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(key, _)| key.as_str())
    }

    /// The values, in order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().map(|(_, value)| value)
    }

    /// `(key, value)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> {
        self.entries
            .iter()
            .map(|(key, value)| (key.as_str(), value))
    }

    /// How many partitions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<T> IntoIterator for PartitionMap<T> {
    type Item = (String, T);
    type IntoIter = std::vec::IntoIter<(String, T)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<K: Into<String>, T> FromIterator<(K, T)> for PartitionMap<T> {
    fn from_iter<I: IntoIterator<Item = (K, T)>>(iter: I) -> Self {
        let mut map = Self::default();
        for (key, value) in iter {
            map.push(key, value);
        }
        map
    }
}

/// The value of an input, shaped by the number of mapped partitions.
#[derive(Debug, Clone, PartialEq)]
pub enum InputValue<T> {
    /// No upstream partition was mapped (or every one was skipped as missing).
    Nothing,
    /// One value: of an unpartitioned upstream (`None`), or of the one mapped
    /// partition.
    One(Option<String>, T),
    /// Several partitions (or any number, in [`crate::LoadMode::AlwaysMap`]).
    Many(PartitionMap<T>),
}

/// A loaded input: its value and the partitions skipped as missing.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedInput<T> {
    value: InputValue<T>,
    skipped: Vec<String>,
}

impl<T> LoadedInput<T> {
    /// A loaded input.
    pub fn new(value: InputValue<T>, skipped: Vec<String>) -> Self {
        Self { value, skipped }
    }

    /// The value, shaped by the number of partitions.
    pub fn value(&self) -> &InputValue<T> {
        &self.value
    }

    /// The value, owned.
    pub fn into_value(self) -> InputValue<T> {
        self.value
    }

    /// The mapped partitions that were missing and skipped
    /// (`allow_missing_partitions`).
    pub fn skipped_partitions(&self) -> &[String] {
        &self.skipped
    }

    /// The one value, if the input is a single value.
    pub fn into_one(self) -> Option<T> {
        match self.value {
            InputValue::One(_, value) => Some(value),
            InputValue::Nothing | InputValue::Many(_) => None,
        }
    }

    /// Every loaded value keyed by partition, whatever the shape (an
    /// unpartitioned value is keyed by the empty string).
    pub fn into_map(self) -> PartitionMap<T> {
        match self.value {
            InputValue::Nothing => PartitionMap::default(),
            InputValue::One(key, value) => [(key.unwrap_or_default(), value)].into_iter().collect(),
            InputValue::Many(map) => map,
        }
    }
}
