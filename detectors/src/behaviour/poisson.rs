//! The Poisson upper tail, in log space, for significance scores that stay finite and monotone
//! far out in the tail where a plain `1 - cdf` would round to zero.

use std::f64::consts::LN_10;

/// `ln k!`, exact below 32 and by the Stirling series above (error below 1e-13 there).
fn ln_factorial(k: u32) -> f64 {
    if k < 32 {
        return (2..=k).map(|i| f64::from(i).ln()).sum();
    }
    // Stirling series for ln Γ(n) with n = k + 1.
    let n = f64::from(k) + 1.0;
    let inv = 1.0 / n;
    let inv2 = inv * inv;
    (n - 0.5) * n.ln() - n
        + 0.5 * (2.0 * std::f64::consts::PI).ln()
        + inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 / 1260.0))
}

/// `ln P(X >= k)` for `X ~ Poisson(mu)`.
fn ln_upper_tail(k: u32, mu: f64) -> f64 {
    if k == 0 {
        return 0.0;
    }
    if mu <= 0.0 {
        return f64::NEG_INFINITY;
    }
    let kf = f64::from(k);
    if kf > mu {
        // P(X >= k) = p(k) * sum_{j>=0} prod_{i=1..j} mu / (k + i); the ratios are below one, so
        // the series converges, in about sqrt(k) terms when mu is close to k.
        let ln_pk = -mu + kf * mu.ln() - ln_factorial(k);
        let (mut sum, mut term, mut i) = (1.0f64, 1.0f64, 1.0f64);
        loop {
            term *= mu / (kf + i);
            sum += term;
            if term < 1e-17 * sum || i > 1e6 {
                break;
            }
            i += 1.0;
        }
        ln_pk + sum.ln()
    } else {
        // Here the tail is at least about a half; 1 - P(X <= k - 1) loses nothing. The cdf is
        // p(k - 1) * sum_{j>=0} prod_{i=0..j-1} (k - 1 - i) / mu, again with ratios below one.
        let km1 = k - 1;
        let ln_pk1 = -mu + f64::from(km1) * mu.ln() - ln_factorial(km1);
        let (mut sum, mut term) = (1.0f64, 1.0f64);
        let mut j = km1;
        while j > 0 {
            term *= f64::from(j) / mu;
            sum += term;
            if term < 1e-17 * sum {
                break;
            }
            j -= 1;
        }
        let cdf = (ln_pk1 + sum.ln()).exp().min(1.0);
        (-cdf).ln_1p()
    }
}

/// `-log10 P(X >= observed)` for `X ~ Poisson(expected)`: the significance score used by the
/// synchronised and matched detectors. Zero when nothing is observed, finite for any positive
/// `expected` (an `expected` below `1e-12` is treated as `1e-12`), and strictly increasing in
/// `observed` for a fixed `expected`.
pub fn poisson_significance(observed: u32, expected: f64) -> f64 {
    let mu = if expected.is_finite() {
        expected.max(1e-12)
    } else {
        return 0.0;
    };
    (-ln_upper_tail(observed, mu) / LN_10).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_tail(k: u32, mu: f64) -> f64 {
        // 1 - sum_{j<k} e^{-mu} mu^j / j!, in plain arithmetic, fine for small k and mu.
        let mut cdf = 0.0;
        let mut p = (-mu).exp();
        for j in 0..k {
            cdf += p;
            p *= mu / f64::from(j + 1);
        }
        1.0 - cdf
    }

    #[test]
    fn matches_brute_force_where_brute_force_is_accurate() {
        for &mu in &[0.01, 0.3, 1.0, 2.5, 7.0, 15.0, 30.0] {
            for k in 0..40 {
                let want = brute_tail(k, mu);
                if want < 1e-10 {
                    continue;
                }
                let got = ln_upper_tail(k, mu).exp();
                assert!(
                    (got - want).abs() <= 1e-9 * want.max(1e-3),
                    "k={k} mu={mu}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn far_tail_is_finite_and_monotone() {
        let mut last = -1.0;
        for k in 0..2000 {
            let s = poisson_significance(k, 0.5);
            assert!(s.is_finite());
            assert!(s > last || k == 0, "k={k}: {s} <= {last}");
            last = s;
        }
        // Known value: P(X >= 10 | mu = 0.5) ~ 1.7e-10.
        let s = poisson_significance(10, 0.5);
        assert!((s - 9.77).abs() < 0.02, "{s}");
    }

    #[test]
    fn large_counts_near_the_mean_are_insignificant() {
        assert!(poisson_significance(10_000, 10_000.0) < 0.5);
        assert!(poisson_significance(9_000, 10_000.0) < 1e-3);
        assert!(poisson_significance(11_000, 10_000.0) > 15.0);
    }

    #[test]
    fn stirling_agrees_with_the_sum() {
        let exact: f64 = (2..=40u32).map(|i| f64::from(i).ln()).sum();
        assert!((ln_factorial(40) - exact).abs() < 1e-10);
    }
}
