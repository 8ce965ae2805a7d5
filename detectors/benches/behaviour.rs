//! Criterion benchmark of the behaviour detectors (placeholder, filled in below).
fn main() {}
