//! Opening a store from a `--store` value: a folder (the embedded redb store) or a Neo4j URL
//! (`neo4j://`, `neo4j+s://`, `bolt://`, `bolt+s://`). The command line and the GraphQL server
//! both open their store here.
//!
//! Neo4j credentials come from the settings (command-line options or their environment
//! variables), then from a TOML config file:
//!
//! ```toml
//! [neo4j]
//! user = "neo4j"
//! password = "..."
//! database = "ctrlgraph"
//! ```

use std::path::{Path, PathBuf};

use ingest::{RedbStore, Store, StoreError};
use serde::Deserialize;

pub use neo4j_store::{Neo4jConfig, Neo4jStore, is_neo4j_uri};

/// How to reach a Neo4j store; each field overrides the config file.
#[derive(Clone, Default)]
pub struct StoreSettings {
    pub neo4j_user: Option<String>,
    pub neo4j_password: Option<String>,
    pub neo4j_database: Option<String>,
    /// A TOML file with a `[neo4j]` table (`user`, `password`, `database`).
    pub config_file: Option<PathBuf>,
}

impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field("neo4j_user", &self.neo4j_user)
            .field(
                "neo4j_password",
                &self.neo4j_password.as_ref().map(|_| "<hidden>"),
            )
            .field("neo4j_database", &self.neo4j_database)
            .field("config_file", &self.config_file)
            .finish()
    }
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The settings are incomplete or wrong (exit code 2).
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl OpenError {
    /// Whether the user must fix the command or its settings (exit code 2): missing or refused
    /// credentials, an unreadable config file.
    pub fn is_input_error(&self) -> bool {
        match self {
            OpenError::Usage(_) => true,
            OpenError::Store(e) => e.is_auth(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    neo4j: Neo4jSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Neo4jSection {
    user: Option<String>,
    password: Option<String>,
    database: Option<String>,
}

fn read_config(path: &Path) -> Result<Neo4jSection, OpenError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        OpenError::Usage(format!(
            "cannot read the config file {}: {e}",
            path.display()
        ))
    })?;
    let cfg: ConfigFile =
        toml::from_str(&text).map_err(|e| OpenError::Usage(format!("{}: {e}", path.display())))?;
    Ok(cfg.neo4j)
}

/// The Neo4j connection settings for `uri`: settings first, then the config file; the user
/// defaults to `neo4j`, the password is required.
pub fn neo4j_config(uri: &str, s: &StoreSettings) -> Result<Neo4jConfig, OpenError> {
    let file = match &s.config_file {
        Some(p) => read_config(p)?,
        None => Neo4jSection::default(),
    };
    let password = s.neo4j_password.clone().or(file.password).ok_or_else(|| {
        OpenError::Usage(format!(
            "no Neo4j password for {uri}: give --neo4j-password, CTRLGRAPH_NEO4J_PASSWORD or `password` in the [neo4j] table of the config file (--config)"
        ))
    })?;
    Ok(Neo4jConfig {
        uri: uri.to_owned(),
        user: s
            .neo4j_user
            .clone()
            .or(file.user)
            .unwrap_or_else(|| "neo4j".into()),
        password,
        database: s.neo4j_database.clone().or(file.database),
    })
}

/// Opens the store a `--store` value names: a Neo4j URL or a folder (created when absent).
pub fn open_store(spec: &str, s: &StoreSettings) -> Result<Box<dyn Store>, OpenError> {
    if is_neo4j_uri(spec) {
        let cfg = neo4j_config(spec, s)?;
        Ok(Box::new(Neo4jStore::open(&cfg)?))
    } else if spec.contains("://") {
        Err(OpenError::Usage(format!(
            "unsupported store URL `{spec}` (expected a folder or neo4j://, neo4j+s://, bolt://, bolt+s://)"
        )))
    } else {
        Ok(Box::new(RedbStore::open(Path::new(spec))?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_from_settings_then_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ctrlgraph.toml");
        std::fs::write(
            &file,
            "[neo4j]\nuser = \"analyst\"\npassword = \"from-file\"\ndatabase = \"cg\"\n",
        )
        .unwrap();
        let mut s = StoreSettings {
            config_file: Some(file),
            ..Default::default()
        };
        let c = neo4j_config("bolt://h:7687", &s).unwrap();
        assert_eq!(
            (c.user.as_str(), c.password.as_str()),
            ("analyst", "from-file")
        );
        assert_eq!(c.database.as_deref(), Some("cg"));
        s.neo4j_password = Some("from-option".into());
        s.neo4j_user = Some("other".into());
        let c = neo4j_config("bolt://h:7687", &s).unwrap();
        assert_eq!(
            (c.user.as_str(), c.password.as_str()),
            ("other", "from-option")
        );
        assert!(
            !format!("{c:?}").contains("from-option"),
            "the password is not logged"
        );
    }

    #[test]
    fn a_missing_password_or_a_bad_url_is_a_usage_error() {
        let e = open_store("neo4j://127.0.0.1:1", &StoreSettings::default())
            .err()
            .unwrap();
        assert!(
            e.is_input_error() && e.to_string().contains("no Neo4j password"),
            "{e}"
        );
        let e = open_store("http://x", &StoreSettings::default())
            .err()
            .unwrap();
        assert!(
            e.is_input_error() && e.to_string().contains("unsupported store URL"),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("c.toml");
        std::fs::write(&bad, "[neo4j]\npasword = \"typo\"\n").unwrap();
        let s = StoreSettings {
            config_file: Some(bad),
            ..Default::default()
        };
        let e = open_store("bolt://127.0.0.1:1", &s).err().unwrap();
        assert!(
            e.is_input_error() && e.to_string().contains("pasword"),
            "{e}"
        );
    }

    #[test]
    fn an_unreachable_server_is_unavailable_not_a_usage_error() {
        // Port 1 on the loopback: nothing listens there.
        let s = StoreSettings {
            neo4j_password: Some("whatever1".into()),
            ..Default::default()
        };
        let e = open_store("bolt://127.0.0.1:1", &s).err().unwrap();
        assert!(!e.is_input_error(), "{e}");
        assert!(
            matches!(&e, OpenError::Store(se) if se.is_unavailable()),
            "{e:?}"
        );
    }
}
