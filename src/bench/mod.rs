//! `latchkey bench …`: the measurements behind BENCHMARKS.md. Figures are reported as ratios
//! from one run, since the machines they run on are shared and noisy.

pub mod hash;
pub mod load;
pub mod seed;

/// The p-th percentile (0–100) of sorted latencies in microseconds.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    #[test]
    fn percentiles_pick_from_the_sorted_samples() {
        let samples: Vec<u64> = (1..=100).collect();
        assert_eq!(super::percentile(&samples, 50.0), 51);
        assert_eq!(super::percentile(&samples, 99.0), 99);
        assert_eq!(super::percentile(&[], 99.0), 0);
    }
}
