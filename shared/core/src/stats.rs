//! The exact tests canary analysis rests on ([`crate::analysis`]), valid at any count:
//!
//! - [`fisher_greater`]: Fisher's exact test, one-sided: how likely a first group shows at
//!   least as many failures as it did, if both groups failed at the same rate (the
//!   hypergeometric tail, conditioned on the total number of failures).
//! - [`binomial_at_least`]: how likely `n` trials at rate `p` give at least `k` failures.
//!
//! Both sum probabilities in log space from [`ln_gamma`] (Lanczos), walking the
//! probability mass function by its ratio recurrence from the observed count outwards and
//! stopping once the remaining terms cannot change the sum, so a million invocations cost
//! a few thousand steps at most.

/// `ln Γ(x)` for `x > 0`, by the Lanczos approximation (g = 7, 9 terms): relative error
/// below 1e-13 over the range used here.
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// `ln C(n, k)`.
pub fn ln_choose(n: u64, k: u64) -> f64 {
    if k > n {
        return f64::NEG_INFINITY;
    }
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// Sums `exp(ln_first)`, then each next term by `ratio(x)` (term(x + 1) / term(x)), for
/// `x` from `from` to `to`, stopping early once the terms are past their peak and too small
/// to matter. Returns the sum, at most 1.
fn tail_sum(ln_first: f64, from: u64, to: u64, ratio: impl Fn(u64) -> f64) -> f64 {
    if !ln_first.is_finite() {
        return 0.0;
    }
    let mut term = ln_first.exp();
    let mut sum = term;
    let mut x = from;
    while x < to {
        let r = ratio(x);
        term *= r;
        sum += term;
        x += 1;
        if r < 1.0 && term <= sum * 1e-17 {
            break;
        }
    }
    sum.min(1.0)
}

/// One-sided Fisher's exact test: the probability, if both groups fail at the same rate, that
/// group A (`failures_a` of `trials_a`) shows at least `failures_a` failures given the
/// failures of both groups together. Small means A's rate is higher than B's beyond chance.
pub fn fisher_greater(failures_a: u64, trials_a: u64, failures_b: u64, trials_b: u64) -> f64 {
    let failures_a = failures_a.min(trials_a);
    let failures_b = failures_b.min(trials_b);
    let total = trials_a + trials_b;
    let failures = failures_a + failures_b;
    if total == 0 || failures == 0 {
        return 1.0;
    }
    let successes = total - failures;
    let highest = trials_a.min(failures);
    // P(X = x) = C(failures, x) C(successes, trials_a − x) / C(total, trials_a).
    let ln_pmf = |x: u64| {
        if trials_a - x > successes {
            return f64::NEG_INFINITY;
        }
        ln_choose(failures, x) + ln_choose(successes, trials_a - x) - ln_choose(total, trials_a)
    };
    tail_sum(ln_pmf(failures_a), failures_a, highest, |x| {
        let numerator = (failures - x) as f64 * (trials_a - x) as f64;
        let denominator = (x + 1) as f64 * (successes as f64 - (trials_a - x) as f64 + 1.0);
        if denominator <= 0.0 {
            0.0
        } else {
            numerator / denominator
        }
    })
}

/// The probability that `trials` independent trials that each fail with probability `rate`
/// give at least `failures` failures.
pub fn binomial_at_least(failures: u64, trials: u64, rate: f64) -> f64 {
    if failures == 0 {
        return 1.0;
    }
    if failures > trials || rate <= 0.0 {
        return 0.0;
    }
    if rate >= 1.0 {
        return 1.0;
    }
    let ln_pmf = ln_choose(trials, failures)
        + failures as f64 * rate.ln()
        + (trials - failures) as f64 * (-rate).ln_1p();
    let odds = rate / (1.0 - rate);
    tail_sum(ln_pmf, failures, trials, |x| {
        (trials - x) as f64 / (x + 1) as f64 * odds
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance * b.abs().max(1e-300)
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        let mut factorial = 1.0_f64;
        for n in 1..=25u32 {
            factorial *= f64::from(n);
            assert!(
                close(ln_gamma(f64::from(n) + 1.0), factorial.ln(), 1e-13),
                "{n}!"
            );
        }
        // Γ(1/2) = √π.
        assert!(close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-13
        ));
    }

    // Reference values computed exactly (rational arithmetic over math.comb in Python 3.11):
    //   from math import comb; from fractions import Fraction
    //   def fisher(a, n1, c, n2): K = a + c; N = n1 + n2
    //       return float(sum(Fraction(comb(K, x) * comb(N - K, n1 - x), comb(N, n1))
    //                        for x in range(a, min(n1, K) + 1)))
    #[test]
    fn fisher_matches_exact_rational_sums() {
        let cases = [
            // (a, n1, c, n2, p)
            (4, 61, 2, 540, 0.001_240_960_772_371_928_7),
            (3, 10, 1, 10, 0.291_021_671_826_625_36),
            (0, 10, 5, 10, 1.0),
            (10, 10, 0, 10, 5.412_544_112_234_515e-6),
            (20, 200, 90, 1_800, 0.004_865_895_130_257_565_4),
        ];
        for (a, n1, c, n2, expected) in cases {
            let p = fisher_greater(a, n1, c, n2);
            assert!(
                close(p, expected, 1e-9),
                "fisher({a},{n1},{c},{n2}) = {p}, not {expected}"
            );
        }
    }

    #[test]
    fn binomial_matches_exact_rational_sums() {
        // float(sum(Fraction(comb(n, x)) * Fraction(p)**x * (1 - Fraction(p))**(n - x)
        //           for x in range(k, n + 1))) with p = Fraction(1, 100)
        let cases = [
            (1, 50, 0.01, 0.394_993_932_862_463_37),
            (3, 50, 0.01, 0.013_817_270_830_600_395),
            (5, 61, 0.01, 0.000_373_530_096_092_189_93),
        ];
        for (k, n, rate, expected) in cases {
            let p = binomial_at_least(k, n, rate);
            assert!(
                close(p, expected, 1e-9),
                "binomial({k},{n},{rate}) = {p}, not {expected}"
            );
        }
        assert_eq!(binomial_at_least(0, 10, 0.5), 1.0);
        assert_eq!(binomial_at_least(11, 10, 0.5), 0.0);
    }

    #[test]
    fn large_counts_stay_finite_and_fast() {
        // A million invocations each: the same rate is no evidence; double the rate is.
        let same = fisher_greater(1_000, 1_000_000, 9_000, 9_000_000);
        assert!(same > 0.3 && same <= 1.0, "{same}");
        let double = fisher_greater(2_000, 1_000_000, 9_000, 9_000_000);
        assert!(double < 1e-12, "{double}");
        let above = binomial_at_least(12_000, 1_000_000, 0.01);
        assert!(above < 1e-9, "{above}");
    }
}
