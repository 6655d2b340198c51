//! From everything the search evaluated to one model: the Pareto front over
//! (validation NRMSE, DECOMP.RSSD), the documented pick, and the models
//! nearest to it that give each channel's ROI interval.
//!
//! **The rule.** Over the front, each objective is min-max normalised to
//! `[0, 1]`; a model's score is `sqrt(w * nrmse'^2 + (1 - w) * rssd'^2)`
//! with `w = nrmse_weight` (default 0.5: Robyn's "closest to the origin"),
//! and the lowest score wins (earliest evaluated on a tie). The ROI interval
//! of a channel is the range of its ROI over the `interval_models`
//! lowest-scoring front models (the pick included).

use mmm_sdk::prelude::*;

use crate::search::Archive;

/// The front and what was picked from it (indices into the archive).
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// The Pareto front, by increasing NRMSE.
    pub front: Vec<usize>,
    pub chosen: usize,
    /// Front models by increasing score: the pick first.
    pub nearest: Vec<usize>,
}

/// Non-dominated candidates over two objectives: sort by the first, keep
/// those that improve the second. Failed candidates (`f64::MAX`) never count.
pub fn pareto_front(objectives: &[[f64; 2]]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..objectives.len())
        .filter(|&i| objectives[i][0] < f64::MAX)
        .collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (objectives[a], objectives[b]);
        x[0].total_cmp(&y[0])
            .then(x[1].total_cmp(&y[1]))
            .then(a.cmp(&b))
    });
    let mut best = f64::INFINITY;
    order
        .into_iter()
        .filter(|&i| {
            let keep = objectives[i][1] < best;
            best = best.min(objectives[i][1]);
            keep
        })
        .collect()
}

pub fn select(archive: &Archive, nrmse_weight: f64, interval_models: usize) -> Result<Selection> {
    let front = pareto_front(&archive.objectives);
    if front.is_empty() {
        return Err(Error::numerical("no candidate model could be fitted"));
    }
    let span = |m: usize| {
        let values = front.iter().map(|&i| archive.objectives[i][m]);
        let lo = values.clone().fold(f64::INFINITY, f64::min);
        let hi = values.fold(f64::NEG_INFINITY, f64::max);
        (lo, hi - lo)
    };
    let (spans, w) = ([span(0), span(1)], nrmse_weight);
    let normalised = |i: usize, m: usize| {
        let (lo, width) = spans[m];
        if width > 0.0 {
            (archive.objectives[i][m] - lo) / width
        } else {
            0.0
        }
    };
    let score =
        |i: usize| (w * normalised(i, 0).powi(2) + (1.0 - w) * normalised(i, 1).powi(2)).sqrt();
    let mut nearest = front.clone();
    nearest.sort_by(|&a, &b| score(a).total_cmp(&score(b)).then(a.cmp(&b)));
    nearest.truncate(interval_models.max(1));
    Ok(Selection {
        chosen: nearest[0],
        front,
        nearest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_front_keeps_only_non_dominated_points() {
        let objectives = [
            [1.0, 5.0],
            [2.0, 2.0],
            [3.0, 3.0],
            [4.0, 1.0],
            [2.0, 2.0],
            [f64::MAX, f64::MAX],
        ];
        assert_eq!(pareto_front(&objectives), vec![0, 1, 3]);
    }

    #[test]
    fn the_pick_is_closest_to_the_utopia_point_after_normalising() {
        // front (1,5) (2,2) (4,1): normalised (0,1) (1/3,1/4) (1,0): (2,2) scores lowest.
        let archive = Archive {
            genes: vec![vec![]; 3],
            objectives: vec![[1.0, 5.0], [2.0, 2.0], [4.0, 1.0]],
        };
        let s = select(&archive, 0.5, 2).unwrap();
        assert_eq!((s.chosen, s.nearest.clone()), (1, vec![1, 0]));
        // All weight on NRMSE picks the lowest-error model.
        assert_eq!(select(&archive, 1.0, 1).unwrap().chosen, 0);
    }
}
