//! Bearer tokens and roles. The tokens file keeps SHA-256 hashes of the tokens, never the tokens:
//!
//! ```toml
//! [[token]]
//! name = "alice"
//! role = "analyst"      # viewer | analyst | admin
//! sha256 = "9f86d08..." # hex SHA-256 of the token
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use async_graphql::Enum;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Enum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything, with identity numbers and phones masked.
    Viewer,
    /// Reads everything unmasked and reviews groups.
    Analyst,
    /// An analyst who may also re-run the analysis.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    /// True when personal identifiers are shown whole.
    pub fn sees_unmasked(self) -> bool {
        self >= Role::Analyst
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
}

/// Errors reading a tokens file.
#[derive(Debug, thiserror::Error)]
pub enum TokensError {
    #[error("cannot read the tokens file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot write the tokens file {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: ingest::StoreError,
    },
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TokensFile {
    #[serde(default)]
    token: Vec<TokenEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    name: String,
    role: Role,
    sha256: String,
}

/// The configured tokens, by hash.
#[derive(Debug, Default, Clone)]
pub struct Tokens {
    by_hash: HashMap<[u8; 32], Principal>,
}

/// The hex SHA-256 of a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Tokens {
    /// Reads a tokens file.
    pub fn load(path: &Path) -> Result<Tokens, TokensError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokensError::Read {
            path: path.to_owned(),
            source,
        })?;
        Tokens::parse(&text).map_err(|reason| TokensError::Invalid {
            path: path.to_owned(),
            reason,
        })
    }

    /// Parses the text of a tokens file.
    pub fn parse(text: &str) -> Result<Tokens, String> {
        let file: TokensFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut by_hash = HashMap::new();
        for (i, t) in file.token.into_iter().enumerate() {
            let mut hash = [0u8; 32];
            hex::decode_to_slice(t.sha256.trim(), &mut hash).map_err(|_| {
                format!(
                    "token #{} ({}): `sha256` must be 64 hex digits",
                    i + 1,
                    t.name
                )
            })?;
            let principal = Principal {
                name: t.name,
                role: t.role,
            };
            if by_hash.insert(hash, principal).is_some() {
                return Err(format!("token #{}: the same token is listed twice", i + 1));
            }
        }
        Ok(Tokens { by_hash })
    }

    /// The caller a bearer token belongs to.
    pub fn authenticate(&self, token: &str) -> Option<&Principal> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.by_hash.get(&digest)
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

/// The tokens a server checks callers against. With a file, they follow it: the file's
/// modification time and size are looked at on every request and the file is read again when
/// they change, so a token removed from the file stops working at the next request, without a
/// restart. A file that cannot be read or parsed any more leaves no valid token (nobody gets
/// in on tokens that may have been revoked) until it is fixed.
#[derive(Debug)]
pub struct TokenSource {
    path: Option<PathBuf>,
    held: RwLock<(Option<FileStamp>, Arc<Tokens>)>,
}

/// What tells that a file changed: its modification time and length.
type FileStamp = (Option<SystemTime>, u64);

fn stamp(path: &Path) -> Option<FileStamp> {
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.modified().ok(), m.len()))
}

impl TokenSource {
    /// Tokens that never change.
    pub fn fixed(tokens: Tokens) -> TokenSource {
        TokenSource {
            path: None,
            held: RwLock::new((None, Arc::new(tokens))),
        }
    }

    /// Tokens read from `path` now, and again whenever it changes.
    pub fn file(path: &Path) -> Result<TokenSource, TokensError> {
        let at = stamp(path);
        let tokens = Tokens::load(path)?;
        Ok(TokenSource {
            path: Some(path.to_owned()),
            held: RwLock::new((at, Arc::new(tokens))),
        })
    }

    /// The tokens in force, re-read first when the file changed.
    pub fn current(&self) -> Arc<Tokens> {
        let held = |w: &RwLock<(Option<FileStamp>, Arc<Tokens>)>| {
            w.read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone()
        };
        let Some(path) = &self.path else {
            return held(&self.held).1;
        };
        let now = stamp(path);
        let (at, tokens) = held(&self.held);
        if now == at {
            return tokens;
        }
        let fresh = match Tokens::load(path) {
            Ok(t) => {
                tracing::info!(path = %path.display(), tokens = t.len(), "tokens file re-read");
                t
            }
            Err(e) => {
                tracing::error!(error = %e, "the tokens file changed and cannot be used: no token is valid until it is fixed");
                Tokens::default()
            }
        };
        let fresh = Arc::new(fresh);
        *self
            .held
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (now, fresh.clone());
        fresh
    }
}

/// Creates a random token for `name` with `role`, appends its hash to the tokens file (created
/// when absent) and returns the token, which is shown once and stored nowhere.
pub fn add_token(path: &Path, name: &str, role: Role) -> Result<String, TokensError> {
    let mut file: TokensFile = match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| TokensError::Invalid {
            path: path.to_owned(),
            reason: e.to_string(),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => TokensFile::default(),
        Err(source) => {
            return Err(TokensError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("cg_{}", hex::encode(bytes));
    file.token.push(TokenEntry {
        name: name.to_owned(),
        role,
        sha256: hash_token(&token),
    });
    let text = toml::to_string(&file).map_err(|e| TokensError::Invalid {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    ingest::store::write_atomically(path, |w| std::io::Write::write_all(w, text.as_bytes()))
        .map_err(|source| TokensError::Write {
            path: path.to_owned(),
            source,
        })?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_matched_by_hash_only() {
        let text = format!(
            "[[token]]\nname = \"ann\"\nrole = \"viewer\"\nsha256 = \"{}\"\n",
            hash_token("secret-1")
        );
        let tokens = Tokens::parse(&text).unwrap();
        assert_eq!(tokens.authenticate("secret-1").unwrap().role, Role::Viewer);
        assert!(tokens.authenticate("secret-2").is_none());
        assert!(!text.contains("secret-1"));
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        let err = Tokens::parse("[[token]]\nname = \"a\"\nrole = \"root\"\nsha256 = \"00\"\n")
            .unwrap_err();
        assert!(err.contains("root") || err.contains("variant"), "{err}");
        let err = Tokens::parse("[[token]]\nname = \"a\"\nrole = \"admin\"\nsha256 = \"00\"\n")
            .unwrap_err();
        assert!(err.contains("64 hex digits"), "{err}");
    }

    #[test]
    fn added_tokens_authenticate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.toml");
        let t1 = add_token(&path, "ann", Role::Admin).unwrap();
        let t2 = add_token(&path, "bob", Role::Viewer).unwrap();
        let tokens = Tokens::load(&path).unwrap();
        assert_eq!(tokens.len(), 2);
        assert_eq!(tokens.authenticate(&t1).unwrap().name, "ann");
        assert_eq!(tokens.authenticate(&t2).unwrap().role, Role::Viewer);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&t1));
    }
}
