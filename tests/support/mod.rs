//! What the command-line tests that serve share: starting `ctrlgraph serve` and reading the
//! address it prints.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `ctrlgraph serve`; killed on drop.
pub struct Served {
    pub child: Child,
    pub url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cmd` (a `ctrlgraph ... serve --listen 127.0.0.1:0 ...` command) and waits for the
/// line that names its address.
pub fn start_serving(mut cmd: Command) -> Served {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the binary runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .expect("the server prints its address");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("the server did not start: {line:?}"))
        .to_owned();
    Served { child, url }
}

/// Runs `cmd` (a `ctrlgraph` command with its store options) as `token add` and returns the new
/// token it prints.
pub fn add_token(mut cmd: Command, tokens: &Path, name: &str, role: &str) -> String {
    let o = cmd
        .args(["token", "add", "--tokens"])
        .arg(tokens)
        .args(["--name", name, "--role", role])
        .output()
        .expect("the binary runs");
    assert!(
        o.status.success(),
        "token add failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}
