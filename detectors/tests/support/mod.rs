//! Helpers shared by the detector integration tests: a tiny deterministic random generator for
//! synthetic graphs and readers of the process's memory figures for the scale tests.

// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]

/// SplitMix64: tiny, fast, deterministic; good enough for synthetic test graphs.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (modulo bias is irrelevant at test sizes).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// A `/proc/self/status` figure in KiB (`VmRSS:`, `VmHWM:`), 0 where unavailable.
pub fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets the peak resident set size (Linux >= 4.0); harmless where unsupported.
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
