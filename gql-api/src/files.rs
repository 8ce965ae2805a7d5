//! The static files of the investigation page and the GraphiQL explorer, served from their
//! built folders without ever leaving them: a path that leads out of its folder through a
//! symbolic link (or `..`) is not found, whatever the link points at.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::services::{ServeDir, ServeFile};

/// A router serving `dir` (its `index.html` for paths it does not hold), or `None` when `dir`
/// has no `index.html` of its own.
pub fn folder(dir: &Path) -> Option<Router> {
    let root = Arc::new(dir.canonicalize().ok()?);
    let index = dir.join("index.html");
    if !index.is_file() || !inside(&root, &index) {
        return None;
    }
    let files = ServeDir::new(root.as_path()).fallback(ServeFile::new(root.join("index.html")));
    Some(
        Router::new()
            .fallback_service(files)
            .layer(axum::middleware::from_fn_with_state(root, within)),
    )
}

/// Whether `path`, with every link in it followed, is still inside `root` (a path that does
/// not exist is: the folder's `index.html` answers it).
fn inside(root: &Path, path: &Path) -> bool {
    match path.canonicalize() {
        Ok(real) => real.starts_with(root),
        Err(_) => !path.exists() && path.symlink_metadata().is_err(),
    }
}

/// Refuses requests whose path leaves the folder.
async fn within(State(root): State<Arc<PathBuf>>, request: Request, next: Next) -> Response {
    let Some(rel) = relative(request.uri().path()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !inside(&root, &root.join(rel)) {
        return StatusCode::NOT_FOUND.into_response();
    }
    next.run(request).await
}

/// The folder-relative path a URL path names, percent-decoded; `None` when it climbs out with
/// `..`, names a root or drive, or does not decode.
fn relative(url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    let mut out = PathBuf::new();
    for c in Path::new(decoded.trim_start_matches('/')).components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths_stay_relative() {
        assert_eq!(relative("/a/b.js"), Some(PathBuf::from("a/b.js")));
        assert_eq!(relative("/a%2Fb"), Some(PathBuf::from("a/b")));
        assert_eq!(relative("/./x"), Some(PathBuf::from("x")));
        assert_eq!(relative("/../etc/passwd"), None);
        assert_eq!(relative("/a/%2e%2e/%2e%2e/x"), None);
        assert_eq!(relative("/%zz"), None);
    }
}
