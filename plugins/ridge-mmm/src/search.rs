//! NSGA-II (Deb et al. 2002) over genes in `[0, 1]^d`, minimising the
//! active ones of up to three objectives ([`Settings::active`]; the others
//! are recorded in the archive but play no part in dominance or crowding), seeded and single-threaded so a seed fixes every candidate.
//!
//! Initial population by Latin hypercube sampling; binary tournaments on
//! (front rank, crowding distance); simulated binary crossover (eta 15,
//! probability 0.9) and polynomial mutation (eta 20, one gene in `d` on
//! average); survival of the best fronts of parents + offspring. Every
//! evaluated candidate is kept, so the final Pareto front is taken over all
//! of them rather than the last population only.

use mmm_sdk::prelude::*;

use crate::rng::Rng;

const CROSSOVER_PROBABILITY: f64 = 0.9;
const ETA_CROSSOVER: f64 = 15.0;
const ETA_MUTATION: f64 = 20.0;

/// Number of objectives of a candidate: NRMSE, DECOMP.RSSD, MAPE.LIFT.
pub const OBJECTIVES: usize = 3;
/// A candidate's scores, all minimised.
pub type Objectives = [f64; OBJECTIVES];

/// Everything the search evaluated, in evaluation order.
#[derive(Debug, Clone, Default)]
pub struct Archive {
    pub genes: Vec<Vec<f64>>,
    pub objectives: Vec<Objectives>,
}

/// Search settings.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub dim: usize,
    pub budget: usize,
    pub population: usize,
    pub seed: u64,
    /// Which of the [`OBJECTIVES`] the search minimises.
    pub active: [bool; OBJECTIVES],
}

/// Runs the search; `evaluate` scores a gene vector, `progress` is called
/// after each generation with (evaluated, budget) and may stop the search.
pub fn nsga2(
    settings: Settings,
    mut evaluate: impl FnMut(&[f64]) -> Objectives,
    mut progress: impl FnMut(u64, u64) -> Result<()>,
) -> Result<Archive> {
    let Settings {
        dim,
        budget,
        population,
        seed,
        active,
    } = settings;
    let n = population.min(budget);
    let mut rng = Rng::new(seed);
    let mut archive = Archive::default();
    let mut pop: Vec<usize> = Vec::with_capacity(2 * n);
    for genes in latin_hypercube(&mut rng, n, dim) {
        archive.objectives.push(evaluate(&genes));
        archive.genes.push(genes);
        pop.push(archive.genes.len() - 1);
    }
    progress(archive.genes.len() as u64, budget as u64)?;
    let mut ranking = rank(&archive.objectives, &pop, active);
    while archive.genes.len() < budget {
        let offspring = n.min(budget - archive.genes.len());
        let mut children = Vec::with_capacity(offspring + 1);
        while children.len() < offspring {
            let a = tournament(&mut rng, &pop, &ranking);
            let b = tournament(&mut rng, &pop, &ranking);
            let (mut c1, mut c2) = crossover(&mut rng, &archive.genes[a], &archive.genes[b]);
            mutate(&mut rng, &mut c1);
            mutate(&mut rng, &mut c2);
            children.push(c1);
            children.push(c2);
        }
        children.truncate(offspring);
        for genes in children {
            archive.objectives.push(evaluate(&genes));
            archive.genes.push(genes);
            pop.push(archive.genes.len() - 1);
        }
        let all = rank(&archive.objectives, &pop, active);
        let mut order: Vec<usize> = (0..pop.len()).collect();
        order.sort_by(|&i, &j| better(&all, i, j));
        order.truncate(n);
        pop = order.iter().map(|&i| pop[i]).collect();
        ranking = order.iter().map(|&i| all[i]).collect();
        progress(archive.genes.len() as u64, budget as u64)?;
    }
    Ok(archive)
}

/// Front rank and crowding distance of each member of `pop`.
type Ranking = Vec<(usize, f64)>;

fn better(r: &Ranking, i: usize, j: usize) -> std::cmp::Ordering {
    r[i].0
        .cmp(&r[j].0)
        .then(r[j].1.total_cmp(&r[i].1))
        .then(i.cmp(&j))
}

fn tournament(rng: &mut Rng, pop: &[usize], ranking: &Ranking) -> usize {
    let (i, j) = (rng.below(pop.len()), rng.below(pop.len()));
    if better(ranking, i, j).is_le() {
        pop[i]
    } else {
        pop[j]
    }
}

/// Whether `a` dominates `b` on the `active` objectives.
pub fn dominates(a: Objectives, b: Objectives, active: [bool; OBJECTIVES]) -> bool {
    let on = || (0..OBJECTIVES).filter(|&m| active[m]);
    on().all(|m| a[m] <= b[m]) && on().any(|m| a[m] < b[m])
}

/// Fast non-dominated sorting and crowding distance over `pop`.
fn rank(objectives: &[Objectives], pop: &[usize], active: [bool; OBJECTIVES]) -> Ranking {
    let k = pop.len();
    let mut ranking = vec![(usize::MAX, 0.0); k];
    let mut dominated_by = vec![0usize; k];
    let mut dominates_list: Vec<Vec<usize>> = vec![Vec::new(); k];
    for i in 0..k {
        for j in 0..k {
            if dominates(objectives[pop[i]], objectives[pop[j]], active) {
                dominates_list[i].push(j);
            } else if dominates(objectives[pop[j]], objectives[pop[i]], active) {
                dominated_by[i] += 1;
            }
        }
    }
    let mut front: Vec<usize> = (0..k).filter(|&i| dominated_by[i] == 0).collect();
    let mut level = 0;
    while !front.is_empty() {
        crowding(objectives, pop, &front, (level, active), &mut ranking);
        let mut next = Vec::new();
        for &i in &front {
            for &j in &dominates_list[i] {
                dominated_by[j] -= 1;
                if dominated_by[j] == 0 {
                    next.push(j);
                }
            }
        }
        next.sort_unstable();
        front = next;
        level += 1;
    }
    ranking
}

fn crowding(
    objectives: &[Objectives],
    pop: &[usize],
    front: &[usize],
    (level, active): (usize, [bool; OBJECTIVES]),
    out: &mut Ranking,
) {
    for &i in front {
        out[i] = (level, 0.0);
    }
    let mut sorted = front.to_vec();
    for m in (0..OBJECTIVES).filter(|&m| active[m]) {
        sorted.sort_by(|&a, &b| {
            objectives[pop[a]][m]
                .total_cmp(&objectives[pop[b]][m])
                .then(a.cmp(&b))
        });
        let (first, last) = (sorted[0], sorted[sorted.len() - 1]);
        let span = objectives[pop[last]][m] - objectives[pop[first]][m];
        out[first].1 = f64::INFINITY;
        out[last].1 = f64::INFINITY;
        if span > 0.0 {
            for w in sorted.windows(3) {
                out[w[1]].1 += (objectives[pop[w[2]]][m] - objectives[pop[w[0]]][m]) / span;
            }
        }
    }
}

fn latin_hypercube(rng: &mut Rng, n: usize, dim: usize) -> Vec<Vec<f64>> {
    let mut points = vec![vec![0.0; dim]; n];
    let mut strata: Vec<usize> = (0..n).collect();
    for d in 0..dim {
        for i in (1..n).rev() {
            strata.swap(i, rng.below(i + 1));
        }
        for (p, &s) in points.iter_mut().zip(&strata) {
            p[d] = (s as f64 + rng.uniform()) / n as f64;
        }
    }
    points
}

/// Simulated binary crossover, gene by gene with probability 1/2, bounded to `[0, 1]`.
fn crossover(rng: &mut Rng, a: &[f64], b: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (mut c1, mut c2) = (a.to_vec(), b.to_vec());
    if rng.uniform() >= CROSSOVER_PROBABILITY {
        return (c1, c2);
    }
    for d in 0..a.len() {
        if rng.uniform() < 0.5 {
            continue;
        }
        let u = rng.uniform();
        let beta = if u <= 0.5 {
            (2.0 * u).powf(1.0 / (ETA_CROSSOVER + 1.0))
        } else {
            (1.0 / (2.0 * (1.0 - u))).powf(1.0 / (ETA_CROSSOVER + 1.0))
        };
        let (x, y) = (a[d], b[d]);
        c1[d] = (0.5 * ((1.0 + beta) * x + (1.0 - beta) * y)).clamp(0.0, 1.0);
        c2[d] = (0.5 * ((1.0 - beta) * x + (1.0 + beta) * y)).clamp(0.0, 1.0);
    }
    (c1, c2)
}

/// Polynomial mutation of each gene with probability `1 / d`.
fn mutate(rng: &mut Rng, genes: &mut [f64]) {
    let p = 1.0 / genes.len() as f64;
    for g in genes.iter_mut() {
        if rng.uniform() >= p {
            continue;
        }
        let u = rng.uniform();
        let delta = if u < 0.5 {
            (2.0 * u).powf(1.0 / (ETA_MUTATION + 1.0)) - 1.0
        } else {
            1.0 - (2.0 * (1.0 - u)).powf(1.0 / (ETA_MUTATION + 1.0))
        };
        *g = (*g + delta).clamp(0.0, 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Schaffer's problem on one gene x in [0, 1] mapped to [-1, 3]: f1 = x^2,
    /// f2 = (x - 2)^2; the Pareto set is x in [0, 2].
    #[test]
    fn finds_the_pareto_set_of_a_known_problem_deterministically() {
        let settings = Settings {
            dim: 1,
            budget: 400,
            population: 20,
            seed: 3,
            active: [true, true, false],
        };
        let f = |g: &[f64]| {
            let x = -1.0 + 4.0 * g[0];
            [x * x, (x - 2.0) * (x - 2.0), 0.0]
        };
        let archive = nsga2(settings, f, |_, _| Ok(())).unwrap();
        assert_eq!(archive.genes.len(), 400);
        let front: Vec<f64> = crate::select::pareto_front(&archive.objectives)
            .iter()
            .map(|&i| -1.0 + 4.0 * archive.genes[i][0])
            .collect();
        assert!(front.len() >= 20, "{front:?}");
        assert!(
            front.iter().all(|x| (-0.02..=2.02).contains(x)),
            "{front:?}"
        );
        let (lo, hi) = front
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), &x| (l.min(x), h.max(x)));
        assert!(lo < 0.05 && hi > 1.95, "{front:?}");
        let again = nsga2(settings, f, |_, _| Ok(())).unwrap();
        assert_eq!(archive.genes, again.genes);
    }

    #[test]
    fn stops_when_progress_says_so() {
        let settings = Settings {
            dim: 2,
            budget: 1000,
            population: 10,
            seed: 1,
            active: [true, true, false],
        };
        let mut calls = 0;
        let result = nsga2(
            settings,
            |g| [g[0], g[1], 0.0],
            |done, _| {
                calls += 1;
                if done >= 30 {
                    Err(Error::cancelled())
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(result.unwrap_err().code(), ErrorCode::Cancelled);
        assert_eq!(calls, 3);
    }

    #[test]
    fn crowding_keeps_the_extremes() {
        let objectives = [
            [0.0, 3.0, 0.0],
            [1.0, 2.0, 0.0],
            [2.0, 1.0, 0.0],
            [3.0, 0.0, 0.0],
            [3.0, 3.0, 0.0],
        ];
        let r = rank(&objectives, &[0, 1, 2, 3, 4], [true, true, false]);
        assert_eq!(r[0], (0, f64::INFINITY));
        assert_eq!(r[4].0, 1);
        assert!((r[1].1 - (2.0 / 3.0 + 2.0 / 3.0)).abs() < 1e-15);
    }
}
