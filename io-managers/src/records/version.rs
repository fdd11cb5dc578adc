//! Data versions, computed as Dagster computes them.

use sha2::{Digest, Sha256};

/// The data version of an asset that has none recorded yet (Dagster's
/// `DEFAULT_DATA_VERSION`).
pub const DEFAULT_DATA_VERSION: &str = "INITIAL";
/// The data version of an input whose upstream was never materialized
/// (Dagster's `NULL_DATA_VERSION`).
pub const NULL_DATA_VERSION: &str = "NULL";

/// A computed data version: the SHA-256 of the code version followed by the
/// input data versions ordered by their asset key string (Dagster's rule).
pub fn data_version_from_inputs<'a>(
    code_version: &str,
    inputs: impl IntoIterator<Item = (String, &'a str)>,
) -> String {
    let mut inputs: Vec<(String, &str)> = inputs.into_iter().collect();
    inputs.sort();
    let mut hasher = Sha256::new();
    hasher.update(code_version.as_bytes());
    for (_, version) in inputs {
        hasher.update(version.as_bytes());
    }
    hex(&hasher.finalize())
}

/// The data version of a partitioned input: the SHA-256 of the mapped
/// partitions' data versions ordered by partition key.
pub fn partitioned_input_data_version<'a>(
    partitions: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut partitions: Vec<(&str, &str)> = partitions.into_iter().collect();
    partitions.sort();
    let mut hasher = Sha256::new();
    for (_, version) in partitions {
        hasher.update(version.as_bytes());
    }
    hex(&hasher.finalize())
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_sha256_of_code_then_inputs_in_key_order() {
        let version = data_version_from_inputs("1", [("b".to_owned(), "y"), ("a".to_owned(), "x")]);
        let expected = hex(&Sha256::digest(b"1xy"));
        assert_eq!(version, expected);
        assert_ne!(
            version,
            data_version_from_inputs("2", [("a".to_owned(), "x")])
        );
    }

    #[test]
    fn partitioned_inputs_hash_versions_in_partition_order() {
        let forward = partitioned_input_data_version([("2022-01-01", "a"), ("2022-01-02", "b")]);
        let backward = partitioned_input_data_version([("2022-01-02", "b"), ("2022-01-01", "a")]);
        assert_eq!(forward, backward);
        assert_eq!(forward, hex(&Sha256::digest(b"ab")));
    }
}
