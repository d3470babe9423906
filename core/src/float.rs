//! The one check every floating-point input goes through.
//!
//! Energies, times, byte counts and powers come from files, sensors and C
//! callers. NaN would poison every sum it enters, an infinity makes a total
//! meaningless, and a negative energy has no physical reading; each has its
//! own error so a caller can say which. Every part of the library (the
//! composer, hardware models, the MIG rules and the C ABI) classifies a bad
//! number through [`non_negative`] or [`finite`], so they always agree on
//! what "bad" means and in which order the cases are tested.

use core::fmt;

/// What is wrong with a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum FloatError {
    /// The value is NaN.
    NotANumber,
    /// The value is +∞ or −∞.
    Infinite,
    /// The value must be ≥ 0 and is negative.
    Negative,
}

impl fmt::Display for FloatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FloatError::NotANumber => "is NaN",
            FloatError::Infinite => "is infinite",
            FloatError::Negative => "is negative",
        })
    }
}

impl core::error::Error for FloatError {}

/// `x` if it is a finite number: NaN first, then infinities.
///
/// ```
/// use wattledger_core::float::{finite, FloatError};
/// assert_eq!(finite(-2.5), Ok(-2.5));
/// assert_eq!(finite(f64::NAN), Err(FloatError::NotANumber));
/// assert_eq!(finite(f64::NEG_INFINITY), Err(FloatError::Infinite));
/// ```
///
/// # Errors
/// [`FloatError::NotANumber`], [`FloatError::Infinite`].
pub fn finite(x: f64) -> Result<f64, FloatError> {
    if x.is_nan() {
        Err(FloatError::NotANumber)
    } else if x.is_infinite() {
        Err(FloatError::Infinite)
    } else {
        Ok(x)
    }
}

/// `x` if it is a finite number ≥ 0 (−0.0 included): NaN first, then
/// infinities, then negatives, so −∞ is infinite rather than negative.
///
/// ```
/// use wattledger_core::float::{non_negative, FloatError};
/// assert_eq!(non_negative(0.0), Ok(0.0));
/// assert_eq!(non_negative(-1e-300), Err(FloatError::Negative));
/// assert_eq!(non_negative(f64::NEG_INFINITY), Err(FloatError::Infinite));
/// ```
///
/// # Errors
/// [`FloatError::NotANumber`], [`FloatError::Infinite`], [`FloatError::Negative`].
pub fn non_negative(x: f64) -> Result<f64, FloatError> {
    let x = finite(x)?;
    if x < 0.0 {
        Err(FloatError::Negative)
    } else {
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_of_the_cases_is_nan_infinite_negative() {
        assert_eq!(non_negative(f64::NAN), Err(FloatError::NotANumber));
        assert_eq!(non_negative(-f64::NAN), Err(FloatError::NotANumber));
        assert_eq!(non_negative(f64::INFINITY), Err(FloatError::Infinite));
        assert_eq!(non_negative(f64::NEG_INFINITY), Err(FloatError::Infinite));
        assert_eq!(non_negative(-0.5), Err(FloatError::Negative));
        assert_eq!(non_negative(-0.0), Ok(-0.0));
        assert_eq!(non_negative(f64::MAX), Ok(f64::MAX));
        assert_eq!(finite(-f64::MAX), Ok(-f64::MAX));
        assert_eq!(finite(f64::INFINITY), Err(FloatError::Infinite));
    }
}
