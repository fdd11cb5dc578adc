//! The SVG chart: throughput against partition size, one line per system, one
//! panel per workload.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::prelude::*;

use super::Row;
use crate::error::Result;

/// The panels drawn: (title, workload name in the rows).
pub const PANELS: [(&str, &str); 3] = [
    ("Arrow writes, Immediate", "write Immediate arrow"),
    ("Arrow writes, Buffered + flush", "write Buffered arrow"),
    ("Arrow reads (random order)", "read arrow"),
];

/// Draws the throughput (MiB/s) of every system against partition size for
/// each of [`PANELS`] into an SVG file at `path`.
///
/// # Errors
/// If plotters cannot draw or write the file.
pub fn draw(rows: &[Row], path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, (1500, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, PANELS.len()));
    let systems = system_colors(rows);
    for (area, (title, workload)) in panels.iter().zip(PANELS) {
        draw_panel(area, title, &series(rows, workload), &systems)?;
    }
    root.present()?;
    Ok(())
}

type Series = BTreeMap<String, Vec<(f64, f64)>>;

/// Every system that appears in a panel, with a fixed color.
fn system_colors(rows: &[Row]) -> BTreeMap<String, RGBColor> {
    let mut names: Vec<&str> = rows
        .iter()
        .filter(|r| PANELS.iter().any(|(_, w)| r.workload == *w) && r.unit == "MiB/s")
        .map(|r| r.system.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            let c = Palette99::pick(i).to_rgba();
            (n.to_owned(), RGBColor(c.0, c.1, c.2))
        })
        .collect()
}

fn series(rows: &[Row], workload: &str) -> Series {
    let mut series = Series::new();
    for row in rows
        .iter()
        .filter(|r| r.workload == workload && r.unit == "MiB/s")
    {
        if let Some(size) = row.size {
            series
                .entry(row.system.clone())
                .or_default()
                .push((size as f64, row.value.max(1e-3)));
        }
    }
    series
}

fn draw_panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    title: &str,
    series: &Series,
    colors: &BTreeMap<String, RGBColor>,
) -> Result<()> {
    let points = series.values().flatten();
    let (x_min, x_max) = bounds(points.clone().map(|p| p.0));
    let (y_min, y_max) = bounds(points.map(|p| p.1));
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (x_min..x_max * 1.5).log_scale(),
            (y_min / 2.0..y_max * 2.0).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("partition size (bytes)")
        .y_desc("MiB/s")
        .x_label_formatter(&|x| super::human_size(*x as u64))
        .draw()?;
    for (system, points) in series {
        let color = colors.get(system).copied().unwrap_or(BLACK);
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))?
            .label(system)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    Ok(())
}

/// The least and greatest of `values`, or (1, 10) for none.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi { (1.0, 10.0) } else { (lo, hi) }
}
