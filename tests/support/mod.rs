//! What the command-line tests that serve share: starting `ctrlgraph serve` and reading the
//! address it prints.

use std::io::{BufRead, BufReader};
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
