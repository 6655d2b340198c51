//! The largest budget that still meets a return target, by bisection over
//! the budget with a full allocation at each step.

use super::problem::Problem;
use super::search::{Settings, Solution, maximise};

/// Budgets tried up the range for one that meets the target when the
/// smallest misses it (see [`largest_budget`]).
pub const ANCHORS: i64 = 16;

/// What the spend must keep earning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Overall return: response over budget at the best allocation.
    Roi(f64),
    /// Marginal return: response to the next unit of budget there.
    Mroi(f64),
}

impl Target {
    fn met(&self, solution: &Solution, budget: f64) -> bool {
        match *self {
            Self::Roi(t) => budget > 0.0 && solution.response / budget >= t,
            Self::Mroi(t) => solution.marginal >= t,
        }
    }
}

/// The largest budget between the sum of the minimums and the sum of the
/// maximums whose best allocation meets `target`, to within a thousandth
/// of that range (or a cent), with its allocation; `None` when no budget
/// there meets it. `response` must be the media response alone (no
/// baseline) for the ROI target to mean anything.
///
/// Overall and marginal returns both fall as the budget grows on saturating
/// curves, which is what makes bisection valid. On S-curves they rise
/// first: the smallest budget can miss a target that larger ones meet (the
/// overall ROI at half of every channel's spend below the ROI now). So when
/// the smallest budget misses, budgets up the range ([`ANCHORS`] steps) are
/// tried for one that meets it, and the bisection runs from there: what it
/// finds is where the return falls below the target for good.
pub fn largest_budget<F, E>(
    problem: &Problem,
    settings: &Settings,
    target: Target,
    mut evaluate: F,
) -> Result<Option<(i64, Solution)>, E>
where
    F: FnMut(&[Vec<f64>]) -> Result<Vec<f64>, E>,
{
    let low_end = problem.lower.iter().sum::<i64>().max(1);
    let high_end = problem.upper.iter().sum::<i64>();
    let mut solve = |budget: i64, hint: &[f64], settings: &Settings| {
        let mut p = problem.with_budget(budget);
        p.current = hint.to_vec();
        maximise(&p, settings, &mut evaluate)
    };
    let top = solve(high_end, &problem.current, settings)?;
    if target.met(&top, high_end as f64 / 100.0) {
        return Ok(Some((high_end, top)));
    }
    // Later steps start from the neighbour's optimum: a smaller sample will do.
    let warm = Settings {
        samples: settings.samples / 8,
        ..settings.clone()
    };
    let bottom = solve(low_end.min(high_end), &top.allocation, &warm)?;
    let mut stats = bottom.stats.clone();
    let mut anchor = target
        .met(&bottom, low_end as f64 / 100.0)
        .then_some((low_end, bottom));
    let mut k = 1;
    while anchor.is_none() && k < ANCHORS {
        let budget = low_end + (high_end - low_end) * k / ANCHORS;
        let solution = solve(budget, &top.allocation, &warm)?;
        stats.batches += solution.stats.batches;
        stats.scenarios += solution.stats.scenarios;
        stats.iterations += solution.stats.iterations;
        anchor = target
            .met(&solution, budget as f64 / 100.0)
            .then_some((budget, solution));
        k += 1;
    }
    let Some(mut lo) = anchor else {
        return Ok(None);
    };
    let mut hi = (high_end, top);
    let precision = ((high_end - low_end) / 1000).max(1);
    while hi.0 - lo.0 > precision {
        let mid = lo.0 + (hi.0 - lo.0) / 2;
        let solution = solve(mid, &lo.1.allocation, &warm)?;
        stats.batches += solution.stats.batches;
        stats.scenarios += solution.stats.scenarios;
        stats.iterations += solution.stats.iterations;
        if target.met(&solution, mid as f64 / 100.0) {
            lo = (mid, solution);
        } else {
            hi = (mid, solution);
        }
    }
    let (budget, mut solution) = lo;
    stats.batches += hi.1.stats.batches;
    stats.scenarios += hi.1.stats.scenarios;
    stats.iterations += hi.1.stats.iterations;
    solution.stats = stats;
    Ok(Some((budget, solution)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_budget_meets_the_roi_target_and_a_bit_more_does_not() {
        let response = |x: &[f64]| 300.0 * x[0] / (x[0] + 100.0) + 200.0 * x[1] / (x[1] + 50.0);
        let problem = Problem::new(100.0, &[0.0, 0.0], &[1000.0, 1000.0], &[50.0, 50.0]).unwrap();
        let eval = |b: &[Vec<f64>]| Ok::<_, ()>(b.iter().map(|x| response(x)).collect());
        let (budget, solution) =
            largest_budget(&problem, &Settings::default(), Target::Roi(1.5), eval)
                .unwrap()
                .expect("reachable");
        let budget = budget as f64 / 100.0;
        assert!(solution.response / budget >= 1.5);
        assert!(budget > 100.0 && budget < 2000.0, "{budget}");
        // A budget 1% larger misses the target even at its best allocation.
        let bigger = problem.with_budget((budget * 101.0) as i64);
        let best = maximise(&bigger, &Settings::default(), eval).unwrap();
        assert!(best.response / (budget * 1.01) < 1.5);
        let none =
            largest_budget(&problem, &Settings::default(), Target::Roi(100.0), eval).unwrap();
        assert!(none.is_none());
        let (m, s) = largest_budget(&problem, &Settings::default(), Target::Mroi(0.5), eval)
            .unwrap()
            .unwrap();
        assert!(s.marginal >= 0.5 && m > 0, "{}", s.marginal);
    }

    #[test]
    fn on_s_curves_a_target_the_smallest_budget_misses_is_still_found() {
        // Hill curves with alpha 3: the overall ROI rises up to ~80 per
        // channel and falls after, so at the minimum budget (20) it is low.
        let hill = |x: f64| 400.0 * x.powi(3) / (x.powi(3) + 80f64.powi(3));
        let response = |x: &[f64]| hill(x[0]) + hill(x[1]);
        let problem = Problem::new(200.0, &[10.0, 10.0], &[400.0, 400.0], &[100.0, 100.0]).unwrap();
        let eval = |b: &[Vec<f64>]| Ok::<_, ()>(b.iter().map(|x| response(x)).collect());
        assert!(response(&[10.0, 10.0]) / 20.0 < 1.5);
        let (budget, solution) =
            largest_budget(&problem, &Settings::default(), Target::Roi(1.5), eval)
                .unwrap()
                .expect("budgets above the minimum meet the target");
        let budget = budget as f64 / 100.0;
        assert!(solution.response / budget >= 1.5);
        let bigger = problem.with_budget((budget * 101.0) as i64);
        let best = maximise(&bigger, &Settings::default(), eval).unwrap();
        assert!(best.response / (budget * 1.01) < 1.5, "{budget}");
    }
}
