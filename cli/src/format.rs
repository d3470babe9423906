//! Number formatting for people.

/// `value` in `unit` with an SI prefix so that 1 ≤ |mantissa| < 1000 and
/// four significant digits: `si(0.0123, "J")` is `"12.30 mJ"`.
pub fn si(value: f64, unit: &str) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value} {unit}");
    }
    const PREFIXES: [(f64, &str); 9] = [
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
        (1.0, ""),
        (1e-3, "m"),
        (1e-6, "µ"),
        (1e-9, "n"),
        (1e-12, "p"),
    ];
    let magnitude = value.abs();
    let (scale, prefix) = PREFIXES
        .iter()
        .copied()
        .find(|&(scale, _)| magnitude >= scale * 0.9995)
        .unwrap_or((1e-12, "p"));
    let m = value / scale;
    let decimals = if m.abs() >= 99.995 {
        1
    } else if m.abs() >= 9.9995 {
        2
    } else {
        3
    };
    format!("{m:.decimals$} {prefix}{unit}")
}

/// A fraction as a percentage with one decimal: `pct(0.8181)` is `"81.8 %"`.
pub fn pct(fraction: f64) -> String {
    format!("{:.1} %", fraction * 100.0)
}

/// Pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> crate::CliResult<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| crate::CliError::failure(format!("cannot write JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_prefixes() {
        assert_eq!(si(0.0123, "J"), "12.30 mJ");
        assert_eq!(si(350.0, "W"), "350.0 W");
        assert_eq!(si(1.5e-6, "s"), "1.500 µs");
        assert_eq!(si(0.0, "J"), "0 J");
        assert_eq!(pct(0.8181818), "81.8 %");
    }
}
