//! Cholesky factorisation and triangular solves on ndarray views, written
//! out by hand so the SDK needs no BLAS/LAPACK.

use ndarray::{ArrayView2, ArrayViewMut2};

use super::{RegressionError, expect_len};

/// Factorises a symmetric positive-definite matrix `A = L L'` in place,
/// leaving `L` in the lower triangle (the strict upper triangle is zeroed).
///
/// Reads only the lower triangle of `a`. Fails with
/// [`RegressionError::Singular`] when a pivot is not clearly positive
/// (relative tolerance `n * eps * max diag`).
pub fn cholesky_in_place(mut a: ArrayViewMut2<'_, f64>) -> Result<(), RegressionError> {
    let n = a.nrows();
    expect_len("matrix columns", n, a.ncols())?;
    let max_diag = (0..n).map(|i| a[[i, i]].abs()).fold(0.0, f64::max);
    let tolerance = max_diag * n as f64 * f64::EPSILON;
    for j in 0..n {
        let pivot = a[[j, j]] - (0..j).map(|k| a[[j, k]] * a[[j, k]]).sum::<f64>();
        // Written so that a NaN pivot also counts as singular.
        if pivot.partial_cmp(&tolerance) != Some(std::cmp::Ordering::Greater) {
            return Err(RegressionError::Singular { pivot: j });
        }
        let l_jj = pivot.sqrt();
        a[[j, j]] = l_jj;
        for i in j + 1..n {
            let dot: f64 = (0..j).map(|k| a[[i, k]] * a[[j, k]]).sum();
            a[[i, j]] = (a[[i, j]] - dot) / l_jj;
            a[[j, i]] = 0.0;
        }
    }
    Ok(())
}

/// Solves `L L' x = b` in place given the factor from [`cholesky_in_place`].
pub fn cholesky_solve_in_place(l: ArrayView2<'_, f64>, b: &mut [f64]) {
    let n = b.len();
    for i in 0..n {
        let dot: f64 = (0..i).map(|k| l[[i, k]] * b[k]).sum();
        b[i] = (b[i] - dot) / l[[i, i]];
    }
    for i in (0..n).rev() {
        let dot: f64 = (i + 1..n).map(|k| l[[k, i]] * b[k]).sum();
        b[i] = (b[i] - dot) / l[[i, i]];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn assert_close(actual: &[f64], expected: &[f64]) {
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12, "{actual:?} vs {expected:?}");
        }
    }

    #[test]
    fn cholesky_factorises_a_small_matrix() {
        // [[4, 2], [2, 3]] = L L' with L = [[2, 0], [1, sqrt(2)]] (2*1 = 2, 1 + 2 = 3)
        let mut a = array![[4.0, 2.0], [2.0, 3.0]];
        cholesky_in_place(a.view_mut()).unwrap();
        assert_close(a.as_slice().unwrap(), &[2.0, 0.0, 1.0, 2f64.sqrt()]);
        // Solve [[4,2],[2,3]] x = [8, 7]: x = (1.25, 1.5) since 5 + 3 = 8, 2.5 + 4.5 = 7
        let mut b = [8.0, 7.0];
        cholesky_solve_in_place(a.view(), &mut b);
        assert_close(&b, &[1.25, 1.5]);
    }
}
