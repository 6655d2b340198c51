//! Convergence diagnostics of Vehtari, Gelman, Simpson, Carpenter and
//! Bürkner (2021), as Stan and ArviZ compute them: rank-normalised split
//! R-hat (the larger of the bulk and the folded, tail-sensitive, value) and
//! bulk effective sample size (Geyer's initial monotone sequence on the
//! rank-normalised split chains).

/// R-hat above this, or ESS below [`MIN_ESS`], earns a warning (Vehtari et al.).
pub const MAX_RHAT: f64 = 1.01;
pub const MIN_ESS: f64 = 400.0;

/// One parameter's diagnostics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Convergence {
    pub rhat: f64,
    pub ess_bulk: f64,
}

/// Diagnostics of one parameter from its draws, `chains[m][i]`.
pub fn convergence(chains: &[Vec<f64>]) -> Convergence {
    let split = split_chains(chains);
    let z = rank_normalise(&split);
    let all: Vec<f64> = split.iter().flatten().copied().collect();
    let median = median(&all);
    let folded: Vec<Vec<f64>> = split
        .iter()
        .map(|c| c.iter().map(|v| (v - median).abs()).collect())
        .collect();
    let rhat = rhat(&z).max(rhat(&rank_normalise(&folded)));
    Convergence {
        rhat,
        ess_bulk: ess(&z),
    }
}

/// Each chain's first and second half as chains of their own (the middle
/// draw of an odd-length chain is dropped).
fn split_chains(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut out = Vec::with_capacity(2 * chains.len());
    for c in chains {
        let half = c.len() / 2;
        out.push(c[..half].to_vec());
        out.push(c[c.len() - half..].to_vec());
    }
    out
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    crate::stats::quantile_sorted(&v, 0.5)
}

/// Replaces each draw by the normal quantile of its pooled fractional
/// rank, `Phi^-1((r - 3/8) / (S + 1/4))`, ties sharing their average rank.
fn rank_normalise(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut order: Vec<(f64, usize, usize)> = chains
        .iter()
        .enumerate()
        .flat_map(|(m, c)| c.iter().enumerate().map(move |(i, &v)| (v, m, i)))
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = order.len() as f64;
    let mut out: Vec<Vec<f64>> = chains.iter().map(|c| vec![0.0; c.len()]).collect();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && order[end].0 == order[start].0 {
            end += 1;
        }
        // 1-based average rank of the tied run.
        let rank = (start + end + 1) as f64 / 2.0;
        let z = inverse_normal_cdf((rank - 0.375) / (total + 0.25));
        for &(_, m, i) in &order[start..end] {
            out[m][i] = z;
        }
        start = end;
    }
    out
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Classic R-hat of equally long chains.
fn rhat(chains: &[Vec<f64>]) -> f64 {
    let n = chains[0].len() as f64;
    let m = chains.len() as f64;
    if n < 2.0 || m < 2.0 {
        return f64::NAN;
    }
    let means: Vec<f64> = chains.iter().map(|c| mean(c)).collect();
    let grand = mean(&means);
    let b = n / (m - 1.0) * means.iter().map(|x| (x - grand).powi(2)).sum::<f64>();
    let w = chains
        .iter()
        .zip(&means)
        .map(|(c, mu)| c.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (n - 1.0))
        .sum::<f64>()
        / m;
    if w <= 0.0 {
        return if b <= 0.0 { 1.0 } else { f64::INFINITY };
    }
    (((n - 1.0) / n * w + b / n) / w).sqrt()
}

/// Effective sample size of equally long chains (Stan's estimator).
fn ess(chains: &[Vec<f64>]) -> f64 {
    let n = chains[0].len();
    let m = chains.len() as f64;
    if n < 4 {
        return f64::NAN;
    }
    let means: Vec<f64> = chains.iter().map(|c| mean(c)).collect();
    // Mean over chains of the biased (1/n) autocovariance at `lag`.
    let acov = |lag: usize| -> f64 {
        chains
            .iter()
            .zip(&means)
            .map(|(c, mu)| {
                (0..n - lag)
                    .map(|i| (c[i] - mu) * (c[i + lag] - mu))
                    .sum::<f64>()
                    / n as f64
            })
            .sum::<f64>()
            / m
    };
    let nf = n as f64;
    let mean_var = acov(0) * nf / (nf - 1.0);
    let mut var_plus = mean_var * (nf - 1.0) / nf;
    if m > 1.0 {
        let grand = mean(&means);
        var_plus += means.iter().map(|x| (x - grand).powi(2)).sum::<f64>() / (m - 1.0);
    }
    if var_plus <= 0.0 {
        return f64::NAN;
    }
    let rho = |lag: usize| 1.0 - (mean_var - acov(lag)) / var_plus;
    let mut rho_hat = vec![0.0; n + 2];
    let (mut even, mut odd) = (1.0, rho(1));
    rho_hat[0] = even;
    rho_hat[1] = odd;
    let mut s = 1;
    while s + 4 < n && even + odd > 0.0 {
        even = rho(s + 1);
        odd = rho(s + 2);
        if even + odd >= 0.0 {
            rho_hat[s + 1] = even;
            rho_hat[s + 2] = odd;
        }
        s += 2;
    }
    let max_s = s;
    if even > 0.0 {
        rho_hat[max_s + 1] = even;
    }
    let mut t = 1;
    while t + 3 <= max_s {
        if rho_hat[t + 1] + rho_hat[t + 2] > rho_hat[t - 1] + rho_hat[t] {
            rho_hat[t + 1] = (rho_hat[t - 1] + rho_hat[t]) / 2.0;
            rho_hat[t + 2] = rho_hat[t + 1];
        }
        t += 2;
    }
    let total = m * nf;
    let tau = -1.0 + 2.0 * rho_hat[..max_s].iter().sum::<f64>() + rho_hat[max_s + 1];
    (total / tau).min(total * total.log10())
}

/// The standard normal quantile function (Acklam's rational approximation,
/// relative error below 1.2e-9: ample for ranks).
pub fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.024_25 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.024_25 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic AR(1) series driven by a simple generator.
    fn ar1(seed: u64, n: usize, phi: f64, shift: f64) -> Vec<f64> {
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let mut uniform = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let mut x = 0.0;
        (0..n)
            .map(|_| {
                x = phi * x + inverse_normal_cdf(uniform());
                x + shift
            })
            .collect()
    }

    #[test]
    fn independent_chains_converge_and_keep_their_sample_size() {
        let chains: Vec<Vec<f64>> = (0..4).map(|s| ar1(s, 500, 0.0, 0.0)).collect();
        let c = convergence(&chains);
        assert!(c.rhat < 1.01, "{c:?}");
        assert!(c.ess_bulk > 1500.0 && c.ess_bulk < 2600.0, "{c:?}");
        // AR(1) with phi 0.9: ESS about n (1 - phi) / (1 + phi), ~105 of 2000.
        let sticky: Vec<Vec<f64>> = (0..4).map(|s| ar1(s, 500, 0.9, 0.0)).collect();
        let c = convergence(&sticky);
        assert!(c.ess_bulk > 50.0 && c.ess_bulk < 250.0, "{c:?}");
    }

    #[test]
    fn chains_stuck_apart_have_a_large_rhat() {
        let chains: Vec<Vec<f64>> = (0..4).map(|s| ar1(s, 500, 0.0, s as f64)).collect();
        assert!(convergence(&chains).rhat > 1.5);
    }

    #[test]
    fn the_normal_quantile_is_accurate() {
        assert!(inverse_normal_cdf(0.5).abs() < 1e-12);
        assert!((inverse_normal_cdf(0.975) - 1.959_963_984_540_054).abs() < 1e-8);
        assert!((inverse_normal_cdf(0.001) + 3.090_232_306_167_813_5).abs() < 1e-8);
    }
}
