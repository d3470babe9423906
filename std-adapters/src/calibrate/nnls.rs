//! Lawson–Hanson non-negative least squares for the small, dense systems the
//! calibration fit reduces to.
//!
//! The fit never hands this solver the raw design (which may have a hundred
//! thousand rows): it hands it the triangular factor of that design, at most
//! 14 × 13, with the columns scaled to unit norm. So the solver can afford an
//! SVD for every passive-set subproblem, which keeps it well-behaved even on
//! the rank-deficient training sets a cross-validation fold may produce.

use nalgebra::{DMatrix, DVector};

/// Lawson–Hanson did not settle within its iteration budget.
///
/// With a full-rank matrix the method ends after finitely many steps; this
/// is a guard against the cycling floating point can cause on nearly
/// dependent columns, so that a bad system is an error and never a hang.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotConverged;

/// Solves `min ‖a·x − b‖` subject to `x ≥ 0`.
///
/// Returns the solution and, for each column, whether it is *passive*
/// (free, strictly positive) rather than held at the zero bound.
pub(crate) fn nnls(
    a: &DMatrix<f64>,
    b: &DVector<f64>,
) -> Result<(DVector<f64>, Vec<bool>), NotConverged> {
    let n = a.ncols();
    let mut x = DVector::<f64>::zeros(n);
    let mut passive = vec![false; n];
    // Columns whose gradient says "grow" but whose least-squares value comes
    // out ≤ 0 the moment they are freed: a sign that they are numerically
    // dependent on the passive ones. They sit out until `x` changes, which
    // is what stops the classic add-then-remove-at-once cycle.
    let mut refused = vec![false; n];
    // The gradient `aᵀ(b − a·x)` has entries of size up to ‖a_j‖·‖b‖; below
    // a few hundred ulps of that it is rounding, not a direction to go.
    let tolerance = 64.0 * f64::EPSILON * (a.nrows().max(n) as f64) * a.norm() * b.norm();
    let budget = 30 * (n + 1);
    let mut steps = 0;

    loop {
        let gradient = a.tr_mul(&(b - a * &x));
        let mut entering: Option<(usize, f64)> = None;
        for (j, &g) in gradient.iter().enumerate() {
            let free = passive.get(j) == Some(&false) && refused.get(j) == Some(&false);
            if free && g > tolerance && entering.is_none_or(|(_, best)| g > best) {
                entering = Some((j, g));
            }
        }
        let Some((t, _)) = entering else {
            break;
        };
        set(&mut passive, t, true);

        let mut first = true;
        loop {
            steps += 1;
            if steps > budget {
                return Err(NotConverged);
            }
            let z = solve_passive(a, b, &passive);
            if first && z.get(t).is_some_and(|&v| v <= 0.0) {
                set(&mut passive, t, false);
                set(&mut refused, t, true);
                break;
            }
            first = false;
            let feasible = passive.iter().zip(z.iter()).all(|(&p, &v)| !p || v > 0.0);
            if feasible {
                x = z;
                refused.iter_mut().for_each(|r| *r = false);
                break;
            }
            // Walk from x towards z until the first passive value reaches 0.
            let mut step = f64::INFINITY;
            let mut blocking = None;
            for j in 0..n {
                let (xj, zj) = (x[j], z[j]);
                if passive[j] && zj <= 0.0 {
                    let ratio = if xj - zj > 0.0 { xj / (xj - zj) } else { 0.0 };
                    if ratio < step {
                        step = ratio;
                        blocking = Some(j);
                    }
                }
            }
            x += (&z - &x) * step;
            if let Some(j) = blocking {
                x[j] = 0.0;
            }
            for j in 0..n {
                if passive[j] && x[j] <= 0.0 {
                    x[j] = 0.0;
                    passive[j] = false;
                }
            }
            refused.iter_mut().for_each(|r| *r = false);
        }
    }
    Ok((x, passive))
}

fn set(flags: &mut [bool], j: usize, value: bool) {
    if let Some(f) = flags.get_mut(j) {
        *f = value;
    }
}

/// Unconstrained least squares on the passive columns; zero elsewhere.
///
/// Uses the SVD's minimum-norm solution, so a rank-deficient passive set
/// (possible in a cross-validation fold) still yields a finite answer.
fn solve_passive(a: &DMatrix<f64>, b: &DVector<f64>, passive: &[bool]) -> DVector<f64> {
    let columns: Vec<usize> = (0..a.ncols())
        .filter(|&j| passive.get(j) == Some(&true))
        .collect();
    let mut z = DVector::zeros(a.ncols());
    if columns.is_empty() {
        return z;
    }
    let sub = a.select_columns(columns.iter());
    let svd = sub.svd(true, true);
    let largest = svd.singular_values.max();
    let cutoff = largest * f64::EPSILON * (a.nrows().max(columns.len()) as f64);
    if let Ok(solution) = svd.solve(b, cutoff) {
        for (k, &j) in columns.iter().enumerate() {
            z[j] = solution[k];
        }
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interior_solution_equals_least_squares() {
        // Columns [1,1,1] and [0,1,2], b = [1,3,5]: exactly b = 1·c0 + 2·c1,
        // both positive, so NNLS must return the unconstrained answer (1, 2).
        let a = DMatrix::from_row_slice(3, 2, &[1.0, 0.0, 1.0, 1.0, 1.0, 2.0]);
        let b = DVector::from_row_slice(&[1.0, 3.0, 5.0]);
        let (x, passive) = nnls(&a, &b).unwrap();
        assert!(
            (x[0] - 1.0).abs() < 1e-12 && (x[1] - 2.0).abs() < 1e-12,
            "{x}"
        );
        assert_eq!(passive, vec![true, true]);
    }

    #[test]
    fn negative_slope_is_held_at_zero() {
        // b = [10, 9, 8] against [1,1,1] and [0,1,2]: least squares gives the
        // slope −1. Held at 0, the intercept is the mean of b, 9.
        let a = DMatrix::from_row_slice(3, 2, &[1.0, 0.0, 1.0, 1.0, 1.0, 2.0]);
        let b = DVector::from_row_slice(&[10.0, 9.0, 8.0]);
        let (x, passive) = nnls(&a, &b).unwrap();
        assert!((x[0] - 9.0).abs() < 1e-12 && x[1] == 0.0, "{x}");
        assert_eq!(passive, vec![true, false]);
    }

    #[test]
    fn all_negative_target_gives_zero() {
        // Every column has a non-negative entry pattern and b ≤ 0, so any
        // x ≥ 0 only moves a·x away from b: the optimum is x = 0.
        let a = DMatrix::from_row_slice(2, 2, &[1.0, 0.5, 0.0, 1.0]);
        let b = DVector::from_row_slice(&[-1.0, -2.0]);
        let (x, passive) = nnls(&a, &b).unwrap();
        assert_eq!(x, DVector::zeros(2));
        assert_eq!(passive, vec![false, false]);
    }

    #[test]
    fn matches_brute_force_over_every_passive_set() {
        // On small random systems the optimum can be found by trying every
        // subset of free columns: solve least squares on the subset, keep it
        // if all its values are ≥ 0, and take the feasible one with the least
        // residual. Lawson–Hanson must reach the same residual. Random signs
        // in b make many of these optima sit on the bound, so the paths where
        // a variable enters and later leaves again are exercised.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut uniform = move || {
            // xorshift64*: plenty for test data.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..200 {
            let a = DMatrix::from_fn(6, 4, |_, _| uniform() * 2.0 - 0.5);
            let b = DVector::from_fn(6, |_, _| uniform() * 4.0 - 2.0);
            let (x, _) = nnls(&a, &b).unwrap();
            assert!(x.iter().all(|&v| v >= 0.0));
            let got = (&a * &x - &b).norm();
            let mut best = b.norm();
            for mask in 1u32..16 {
                let cols: Vec<usize> = (0..4).filter(|j| mask & (1 << j) != 0).collect();
                let sub = a.select_columns(cols.iter());
                let z = sub.clone().svd(true, true).solve(&b, 1e-14).unwrap();
                if z.iter().all(|&v| v >= 0.0) {
                    best = best.min((&sub * &z - &b).norm());
                }
            }
            assert!(
                (got - best).abs() <= 1e-10 * (1.0 + best),
                "{got} vs {best}"
            );
        }
    }

    #[test]
    fn kkt_conditions_hold_on_a_mixed_system() {
        // A 5×4 system whose unconstrained solution has negative entries:
        // at the NNLS optimum, each free variable has zero gradient and each
        // bound one a gradient ≤ 0 (no direction into the feasible set helps).
        let a = DMatrix::from_row_slice(
            5,
            4,
            &[
                1.0, 0.2, 0.0, 3.0, //
                0.5, 1.0, 0.1, 0.0, //
                0.0, 0.3, 1.0, 1.0, //
                2.0, 0.0, 0.4, 0.2, //
                0.1, 0.9, 0.0, 1.5,
            ],
        );
        let b = DVector::from_row_slice(&[1.0, -2.0, 3.0, 0.5, -1.0]);
        let (x, passive) = nnls(&a, &b).unwrap();
        let gradient = a.tr_mul(&(&b - &a * &x));
        for j in 0..4 {
            assert!(x[j] >= 0.0);
            if passive[j] {
                assert!(gradient[j].abs() < 1e-10, "free {j}: {gradient}");
            } else {
                assert_eq!(x[j], 0.0);
                assert!(gradient[j] <= 1e-10, "bound {j}: {gradient}");
            }
        }
        // Some variable must be bound here, or the test checks nothing the
        // plain least-squares solution would not pass.
        assert!(passive.iter().any(|p| !p), "{passive:?}");
    }

    #[test]
    fn dependent_columns_do_not_hang() {
        // Two identical columns: the solution is not unique, but the fit
        // (a·x) is, and the solver must end rather than swap them forever.
        let a = DMatrix::from_row_slice(3, 2, &[1.0, 1.0, 2.0, 2.0, 3.0, 3.0]);
        let b = DVector::from_row_slice(&[2.0, 4.0, 6.0]);
        let (x, _) = nnls(&a, &b).unwrap();
        assert!((x[0] + x[1] - 2.0).abs() < 1e-12, "{x}");
    }
}
