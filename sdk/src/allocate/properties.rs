//! Whatever the bounds and budget, as long as they are feasible, the
//! optimiser's answer meets every bound and the budget to the cent.

use proptest::prelude::*;

use super::{Problem, Settings, Target, largest_budget, maximise};

type Shapes = Vec<(f64, f64, f64)>;

/// S-shaped and concave Hill channels `(beta, inflexion, alpha)`.
fn response(x: &[f64], shapes: &Shapes) -> f64 {
    x.iter()
        .zip(shapes)
        .map(|(&v, &(beta, k, alpha))| {
            let v = v.max(0.0);
            beta * v.powf(alpha) / (v.powf(alpha) + k.powf(alpha))
        })
        .sum()
}

/// Up to 8 channels: bounds (not whole cents), current spend, curve shapes,
/// and a budget anywhere between the minimums' and the maximums' sums.
fn case() -> impl Strategy<Value = (Vec<f64>, Vec<f64>, Vec<f64>, Shapes, f64)> {
    (1usize..8).prop_flat_map(|n| {
        (
            prop::collection::vec((0.0..5_000.0f64, 0.0..20_000.0f64), n),
            prop::collection::vec(0.0..10_000.0f64, n),
            prop::collection::vec((1.0..1_000.0f64, 10.0..5_000.0f64, 0.5..3.0f64), n),
            0.0..=1.0f64,
        )
            .prop_map(|(ranges, current, shapes, at)| {
                let lower: Vec<f64> = ranges.iter().map(|r| r.0).collect();
                let upper: Vec<f64> = ranges.iter().map(|r| r.0 + r.1).collect();
                let lo: f64 = lower.iter().map(|l| (l * 100.0).ceil()).sum();
                let hi: f64 = upper.iter().map(|u| (u * 100.0).floor()).sum();
                let budget = (lo + at * (hi - lo).max(0.0)).round() / 100.0;
                (lower, upper, current, shapes, budget)
            })
    })
}

fn check(
    problem: &Problem,
    cents: &[i64],
    lower: &[f64],
    upper: &[f64],
) -> Result<(), TestCaseError> {
    prop_assert_eq!(cents.iter().sum::<i64>(), problem.budget);
    for (c, &x) in cents.iter().enumerate() {
        prop_assert!(
            x as f64 / 100.0 >= lower[c] - 1e-9,
            "channel {}: {} below {}",
            c,
            x,
            lower[c]
        );
        prop_assert!(
            x as f64 / 100.0 <= upper[c] + 1e-9,
            "channel {}: {} above {}",
            c,
            x,
            upper[c]
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_answer_meets_every_bound_and_the_budget((lower, upper, current, shapes, budget) in case()) {
        // Only a range narrower than a cent (min above max in whole cents) is infeasible.
        let problem = Problem::new(budget, &lower, &upper, &current);
        prop_assume!(problem.is_ok(), "{:?}", problem);
        let problem = problem.unwrap();
        let settings = Settings { samples: 32, ..Settings::default() };
        let evaluate = |b: &[Vec<f64>]| Ok::<_, ()>(b.iter().map(|x| response(x, &shapes)).collect());
        let answer = maximise(&problem, &settings, evaluate).unwrap();
        check(&problem, &answer.cents, &lower, &upper)?;
        for (x, c) in answer.allocation.iter().zip(&answer.cents) {
            prop_assert_eq!(*x, *c as f64 / 100.0);
        }
        // No worse than the current spend made feasible (it is one of the starts).
        let start: Vec<f64> = problem.to_cents(&problem.project(&current)).iter().map(|&c| c as f64 / 100.0).collect();
        let (got, base) = (response(&answer.allocation, &shapes), response(&start, &shapes));
        prop_assert!(got >= base - 1e-6 * (1.0 + base.abs()), "{} < {}", got, base);
    }

    #[test]
    fn target_budgets_stay_within_the_bounds((lower, upper, current, shapes, budget) in case(), roi in 0.01..0.5f64) {
        let problem = Problem::new(budget, &lower, &upper, &current);
        prop_assume!(problem.is_ok(), "{:?}", problem);
        let problem = problem.unwrap();
        let settings = Settings { samples: 16, max_iterations: 15, ..Settings::default() };
        let evaluate = |b: &[Vec<f64>]| Ok::<_, ()>(b.iter().map(|x| response(x, &shapes)).collect());
        if let Some((cents, answer)) = largest_budget(&problem, &settings, Target::Roi(roi), evaluate).unwrap() {
            check(&problem.with_budget(cents), &answer.cents, &lower, &upper)?;
        }
    }
}
