//! SVG plots of a trace's composition: units by power state over time and
//! the modelled power, drawn with plotters' SVG backend.
//!
//! A profiler trace is often mostly idle (12.9 s with 10.7 ms of kernels in
//! the A100 fixture) or all busy (a 10 ms burst), so the plot bins the span
//! evenly ([`crate::profiles::compose::Series`]) and draws each bin as a
//! step: the mean units in each state over the bin, stacked, and the mean
//! power. A short kernel in a long, idle trace still shows as a spike of its
//! bin's share, and the areas add up to the report's unit-seconds and
//! joules. Time is in ms below one second and in seconds above.

use plotters::prelude::*;
use wattledger_core::state::PowerState;

use super::{TraceEstimate, si};

/// Width and height of the SVG, in pixels.
pub const SIZE: (u32, u32) = (1100, 700);

/// The y axes reach this far above the data, so the legends sit above it.
const HEADROOM: f64 = 1.7;

/// Bins a plot draws: about one per pixel column of the plotting area.
pub const BINS: u32 = 1000;

fn colour(s: PowerState) -> RGBColor {
    match s {
        PowerState::Active => RGBColor(214, 39, 40),
        PowerState::IdleAllocated => RGBColor(255, 127, 14),
        PowerState::IdleUnallocated => RGBColor(158, 158, 158),
        PowerState::Gated => RGBColor(31, 119, 180),
        PowerState::Transitioning => RGBColor(148, 103, 189),
    }
}

fn label(s: PowerState) -> &'static str {
    match s {
        PowerState::Active => "active",
        PowerState::IdleAllocated => "idle, allocated",
        PowerState::IdleUnallocated => "idle, powered",
        PowerState::Gated => "gated",
        PowerState::Transitioning => "waking",
    }
}

/// The SVG of one device's composition.
///
/// # Errors
/// A message when the estimate carries no series (it was composed without
/// [`crate::profiles::compose::ComposeOptions::series_bins`]) or plotters
/// fails to draw.
pub fn svg(t: &TraceEstimate<'_>) -> Result<String, String> {
    let mut out = String::new();
    draw(t, &mut out).map_err(|e| format!("drawing the plot: {e}"))?;
    Ok(out)
}

fn draw(t: &TraceEstimate<'_>, out: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let e = &t.estimate;
    let r = &e.report;
    let series = e
        .series
        .as_ref()
        .ok_or("the estimate was composed without a series")?;
    let bin_s = series.bin_ns as f64 * 1e-9;
    let (scale, unit) = if r.span_s < 1.0 {
        (1e3, "ms")
    } else {
        (1.0, "s")
    };
    let x_end = (series.bins.len() as f64 * bin_s * scale).max(f64::MIN_POSITIVE);
    let units = f64::from(r.units.max(1));
    // Stacked from the bottom: active, waking, powered idle, gated.
    let order = [
        PowerState::Active,
        PowerState::Transitioning,
        PowerState::IdleUnallocated,
        PowerState::Gated,
    ];
    let power: Vec<f64> = series.bins.iter().map(|b| b.energy_j / bin_s).collect();
    let peak = power.iter().copied().fold(0.0_f64, f64::max).max(1e-9);

    let root = SVGBackend::with_string(out, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let file = std::path::Path::new(&t.trace)
        .file_name()
        .map_or_else(|| t.trace.clone(), |f| f.to_string_lossy().into_owned());
    let title = format!(
        "{file}, device {} ({}) as {}, gating {}: {} over {} ({} busy)",
        e.device,
        e.device_name,
        t.hardware_source,
        r.policy.name(),
        si(r.total_energy_j, "J"),
        si(r.span_s, "s"),
        si(r.busy_s, "s"),
    );
    let (top, bottom) = root
        .titled(&title, ("sans-serif", 18))?
        .split_vertically(SIZE.1 * 55 / 100);

    let mut units_chart = chart(&top, x_end, units * HEADROOM)?;
    units_chart
        .configure_mesh()
        .x_desc(format!("time ({unit}) from the device's first record"))
        .y_desc(format!("{}s by state (mean per bin)", t.unit_name))
        .label_style(("sans-serif", 14))
        .draw()?;
    // Cumulative tops, drawn from the highest layer down so lower layers
    // paint over the ones above them.
    let mut tops = vec![vec![0.0; series.bins.len()]; order.len()];
    for (i, b) in series.bins.iter().enumerate() {
        let mut acc = 0.0;
        for (layer, s) in order.iter().enumerate() {
            acc += b.unit_seconds[s.index()] / bin_s;
            tops[layer][i] = acc;
        }
    }
    for (layer, s) in order.iter().enumerate().rev() {
        let c = colour(*s);
        let share = r.states.get(*s).unit_seconds / (units * r.span_s).max(f64::MIN_POSITIVE);
        units_chart
            .draw_series(AreaSeries::new(
                steps(&tops[layer], bin_s * scale),
                0.0,
                c.mix(0.85),
            ))?
            .label(format!(
                "{} ({:.1} % of unit-time)",
                label(*s),
                share * 100.0
            ))
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], c.filled()));
    }
    // A rug above the full height: every bin in which a kernel ran, however
    // briefly, so that short kernels in a long idle trace are not lost in
    // their bin's mean.
    let rug_low = units * 1.03;
    let rug_high = units * 1.09;
    let ran: Vec<usize> = series
        .bins
        .iter()
        .enumerate()
        .filter(|(_, b)| b.unit_seconds[PowerState::Active.index()] > 0.0)
        .map(|(i, _)| i)
        .collect();
    let w = bin_s * scale;
    let dark = RGBColor(120, 20, 20);
    units_chart
        .draw_series(ran.iter().map(|&i| {
            Rectangle::new(
                [(i as f64 * w, rug_low), ((i + 1) as f64 * w, rug_high)],
                dark.filled(),
            )
        }))?
        .label(format!(
            "kernels ran in the bin ({} of {} bins, {} each)",
            ran.len(),
            series.bins.len(),
            si(bin_s, "s")
        ))
        .legend(move |(x, y)| Rectangle::new([(x + 5, y - 6), (x + 9, y + 6)], dark.filled()));
    units_chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperMiddle)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;

    let mut power_chart = chart(&bottom, x_end, peak * HEADROOM)?;
    power_chart
        .configure_mesh()
        .x_desc(format!("time ({unit})"))
        .y_desc("modelled power (W, mean per bin)")
        .label_style(("sans-serif", 14))
        .draw()?;
    let red = RGBColor(214, 39, 40);
    power_chart
        .draw_series(
            AreaSeries::new(steps(&power, bin_s * scale), 0.0, red.mix(0.25)).border_style(red),
        )?
        .label(format!(
            "power: average {}, highest bin {}",
            si(r.total_energy_j / r.span_s.max(f64::MIN_POSITIVE), "W"),
            si(peak, "W")
        ))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], red));
    power_chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperMiddle)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    root.present()?;
    Ok(())
}

/// A panel's axes: time from 0 to `x_end`, values from 0 to `y_end`.
fn chart<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    x_end: f64,
    y_end: f64,
) -> Result<
    ChartContext<
        'a,
        SVGBackend<'b>,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    DrawingAreaErrorKind<std::io::Error>,
> {
    ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..x_end, 0.0..y_end)
}

/// A step curve: each value held over its bin.
fn steps(values: &[f64], width: f64) -> Vec<(f64, f64)> {
    let mut v = Vec::with_capacity(values.len() * 2);
    for (i, &y) in values.iter().enumerate() {
        v.push((i as f64 * width, y));
        v.push(((i + 1) as f64 * width, y));
    }
    v
}
