//! SVG plots of a run: Lorenz curves of stake and voting power, and Nakamoto coefficients over time.

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::{metrics::lorenz, scenario::RunReport};

/// A plot could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot draw plot: {message}")]
pub struct PlotError {
    /// The SVG file.
    pub path: PathBuf,
    /// The backend's message.
    pub message: String,
}

fn err(path: &Path) -> impl Fn(&dyn std::fmt::Display) -> PlotError + '_ {
    move |e| PlotError {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes `lorenz.svg`, `nakamoto.svg` and `authority.svg` into `dir`; returns their paths.
pub fn write_plots(report: &RunReport, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    std::fs::create_dir_all(dir).map_err(|e| err(dir)(&e))?;
    let lorenz_path = dir.join("lorenz.svg");
    lorenz_plot(report, &lorenz_path)?;
    let nakamoto_path = dir.join("nakamoto.svg");
    nakamoto_plot(report, &nakamoto_path)?;
    let authority_path = dir.join("authority.svg");
    authority_plot(report, &authority_path)?;
    Ok(vec![lorenz_path, nakamoto_path, authority_path])
}

fn lorenz_plot(report: &RunReport, path: &Path) -> Result<(), PlotError> {
    let e = err(path);
    let root = SVGBackend::new(path, (640, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Lorenz curves — {}", report.scenario),
            ("sans-serif", 20),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .x_desc("share of holders (poorest first)")
        .y_desc("cumulative share")
        .draw()
        .map_err(|x| e(&x))?;
    chart
        .draw_series(LineSeries::new(
            vec![(0.0, 0.0), (1.0, 1.0)],
            BLACK.mix(0.3),
        ))
        .map_err(|x| e(&x))?;
    let stake: Vec<f64> = report
        .final_stake
        .iter()
        .copied()
        .filter(|v| *v > 0.0)
        .collect();
    let voice: Vec<f64> = report
        .final_voice
        .iter()
        .copied()
        .filter(|v| *v > 0.0)
        .collect();
    chart
        .draw_series(LineSeries::new(lorenz(&stake), PALETTE[0].stroke_width(2)))
        .map_err(|x| e(&x))?
        .label("stake")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], PALETTE[0]));
    chart
        .draw_series(LineSeries::new(lorenz(&voice), PALETTE[1].stroke_width(2)))
        .map_err(|x| e(&x))?
        .label("voting power")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], PALETTE[1]));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft) // the empty corner above the curves
        .draw()
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))?;
    Ok(())
}

/// The Okabe–Ito palette: distinguishable with every common colour-vision deficiency.
const PALETTE: [RGBColor; 5] = [
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 114, 178),   // blue
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
];

/// A named series extracted from the epoch metrics, and what a missing point means.
type Series = (
    &'static str,
    fn(&crate::metrics::EpochMetrics) -> Option<usize>,
    &'static str,
);

/// The maximal runs of consecutive epochs in which `f` has a value: one line each, so an epoch
/// without a value is a visible gap rather than a line drawn across it.
fn segments(
    epochs: &[crate::metrics::EpochMetrics],
    f: fn(&crate::metrics::EpochMetrics) -> Option<usize>,
) -> Vec<Vec<(u64, u64)>> {
    let mut out: Vec<Vec<(u64, u64)>> = Vec::new();
    let mut open = false;
    for m in epochs {
        match f(m).filter(|v| *v > 0) {
            Some(v) if open => out
                .last_mut()
                .into_iter()
                .for_each(|s| s.push((m.epoch, v as u64))),
            Some(v) => {
                out.push(vec![(m.epoch, v as u64)]);
                open = true;
            }
            None => open = false,
        }
    }
    out
}

fn nakamoto_plot(report: &RunReport, path: &Path) -> Result<(), PlotError> {
    let e = err(path);
    let root = SVGBackend::new(path, (900, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    // The legend gets its own panel to the right: it never covers a line.
    let (plot_area, legend_area) = root.split_horizontally(620);
    let series: [Series; 5] = [
        ("stake", |m| Some(m.nakamoto_stake), ""),
        ("voting power", |m| Some(m.nakamoto_voice), ""),
        ("operator stake", |m| Some(m.nakamoto_operator_stake), ""),
        (
            "accepted attestations",
            |m| Some(m.nakamoto_accepted),
            "gap: no attestation accepted that epoch",
        ),
        (
            "smallest deciding coalition",
            |m| m.min_deciding_coalition,
            "gap: no dispute decided that epoch",
        ),
    ];
    let first = report.epochs.first().map_or(0, |m| m.epoch);
    let last = report.epochs.last().map_or(1, |m| m.epoch).max(first + 1);
    let ymax = series
        .iter()
        .flat_map(|(_, f, _)| report.epochs.iter().filter_map(f))
        .max()
        .unwrap_or(1)
        .max(2) as u64;
    // Log axis with one label per key point (1, 2, 5, 10, 20, 50, ...), so no label repeats.
    let mut keys = Vec::new();
    let mut decade = 1u64;
    while decade <= ymax * 2 {
        keys.extend(
            [decade, 2 * decade, 5 * decade]
                .into_iter()
                .filter(|k| *k <= ymax * 2),
        );
        decade *= 10;
    }
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(
            format!("Nakamoto coefficient — {}", report.scenario),
            ("sans-serif", 20),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(
            first..last,
            (1u64..ymax * 2).log_scale().with_key_points(keys),
        )
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("holders to reach 50% (log)")
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(WHITE.mix(0.0))
        .x_labels(((last - first) as usize + 1).min(12))
        .x_label_formatter(&|x| x.to_string())
        .y_label_formatter(&|y| y.to_string())
        .draw()
        .map_err(|x| e(&x))?;
    for ((_, f, _), color) in series.iter().zip(PALETTE) {
        for seg in segments(&report.epochs, *f) {
            chart
                .draw_series(LineSeries::new(seg.clone(), color.stroke_width(2)))
                .map_err(|x| e(&x))?;
            chart
                .draw_series(seg.into_iter().map(|p| Circle::new(p, 3, color.filled())))
                .map_err(|x| e(&x))?;
        }
    }
    // The legend: a swatch, the name and, for series that can have gaps, what a gap means.
    let mut y = 60;
    for ((label, _, gap), color) in series.iter().zip(PALETTE) {
        legend_area
            .draw(&PathElement::new(
                vec![(10, y + 7), (40, y + 7)],
                color.stroke_width(3),
            ))
            .map_err(|x| e(&x))?;
        legend_area
            .draw(&Text::new(*label, (48, y), ("sans-serif", 15)))
            .map_err(|x| e(&x))?;
        if !gap.is_empty() {
            y += 18;
            legend_area
                .draw(&Text::new(
                    *gap,
                    (48, y),
                    ("sans-serif", 12).into_font().color(&BLACK.mix(0.6)),
                ))
                .map_err(|x| e(&x))?;
        }
        y += 28;
    }
    root.present().map_err(|x| e(&x))?;
    Ok(())
}

/// A named line of per-epoch points and its colour.
type EpochLine = (&'static str, RGBColor, Vec<(u64, u64)>);

/// A linear chart of `lines` over epochs `first..last` in `area`, with their legend in `legend`.
fn epoch_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    legend: &DrawingArea<DB, plotters::coord::Shift>,
    caption: &str,
    y_desc: &str,
    (first, last): (u64, u64),
    lines: &[EpochLine],
    path: &Path,
) -> Result<(), PlotError> {
    let e = err(path);
    let ymax = lines
        .iter()
        .flat_map(|(_, _, pts)| pts.iter().map(|p| p.1))
        .max()
        .unwrap_or(1)
        .max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(first..last, 0u64..ymax + ymax / 10 + 1)
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_desc)
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(WHITE.mix(0.0))
        .x_labels(((last - first) as usize + 1).min(12))
        .x_label_formatter(&|x| x.to_string())
        .draw()
        .map_err(|x| e(&x))?;
    for (i, (label, color, pts)) in lines.iter().enumerate() {
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|x| e(&x))?;
        chart
            .draw_series(pts.iter().map(|q| Circle::new(*q, 3, color.filled())))
            .map_err(|x| e(&x))?;
        let y = 50 + 26 * i as i32;
        legend
            .draw(&PathElement::new(
                vec![(10, y + 7), (40, y + 7)],
                color.stroke_width(3),
            ))
            .map_err(|x| e(&x))?;
        legend
            .draw(&Text::new(*label, (48, y), ("sans-serif", 15)))
            .map_err(|x| e(&x))?;
    }
    Ok(())
}

/// The authority ledger over epochs: decisions by path (top) and the deciders' Nakamoto
/// coefficient by persons and by capital (bottom; an epoch nobody decided anything in has no
/// point).
fn authority_plot(report: &RunReport, path: &Path) -> Result<(), PlotError> {
    use verinfer_authority::Path as DecisionPath;
    let e = err(path);
    let epochs = &report.ledger.summary.epochs;
    let root = SVGBackend::new(path, (900, 640)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let (top, bottom) = root.split_vertically(340);
    let (top_plot, top_legend) = top.split_horizontally(680);
    let (bottom_plot, bottom_legend) = bottom.split_horizontally(680);
    let first = epochs.first().map_or(0, |m| m.epoch);
    let span = (first, epochs.last().map_or(1, |m| m.epoch).max(first + 1));
    // six paths: the palette's five and black
    let colors = PALETTE.iter().copied().chain([BLACK]);
    let by_path: Vec<EpochLine> = DecisionPath::ALL
        .iter()
        .zip(colors)
        .map(|(p, color)| {
            let pts = epochs
                .iter()
                .map(|m| {
                    let n = m.by_path.iter().find(|c| c.path == *p);
                    (m.epoch, n.map_or(0, |c| c.decisions) as u64)
                })
                .collect();
            (p.name(), color, pts)
        })
        .collect();
    let caption = format!("Decisions by path — {}", report.scenario);
    epoch_chart(
        &top_plot,
        &top_legend,
        &caption,
        "decisions",
        span,
        &by_path,
        path,
    )?;
    let decided = || {
        epochs
            .iter()
            .filter(|m| m.concentration.decided_by_someone > 0)
    };
    let nakamoto: Vec<EpochLine> = vec![
        (
            "by persons",
            PALETTE[1],
            decided()
                .map(|m| (m.epoch, m.concentration.nakamoto_persons as u64))
                .collect(),
        ),
        (
            "by capital",
            PALETTE[0],
            decided()
                .map(|m| (m.epoch, m.concentration.nakamoto_capital as u64))
                .collect(),
        ),
    ];
    epoch_chart(
        &bottom_plot,
        &bottom_legend,
        "Deciders' Nakamoto coefficient",
        "persons to hold 50% of authority",
        span,
        &nakamoto,
        path,
    )?;
    root.present().map_err(|x| e(&x))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::EpochMetrics;

    #[test]
    fn a_series_breaks_at_epochs_without_a_value_instead_of_bridging_them() {
        let epochs: Vec<EpochMetrics> = [Some(3), Some(4), None, Some(2), None, None, Some(5)]
            .into_iter()
            .enumerate()
            .map(|(i, c)| EpochMetrics {
                epoch: i as u64,
                min_deciding_coalition: c,
                ..EpochMetrics::default()
            })
            .collect();
        assert_eq!(
            segments(&epochs, |m| m.min_deciding_coalition),
            vec![vec![(0, 3), (1, 4)], vec![(3, 2)], vec![(6, 5)]]
        );
    }
}
