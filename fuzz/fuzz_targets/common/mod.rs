//! Input pieces shared by the fuzz targets.

use arbitrary::Arbitrary;

/// A number: mostly a scaled small integer (valid, varied), sometimes any
/// bit pattern (NaN, infinities, negatives, huge).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Num {
    Small(u16),
    Raw(f64),
}

impl Num {
    /// The number: `n · unit` for a small one, the raw bits otherwise.
    pub fn value(self, unit: f64) -> f64 {
        match self {
            Num::Small(n) => f64::from(n) * unit,
            Num::Raw(x) => x,
        }
    }
}
