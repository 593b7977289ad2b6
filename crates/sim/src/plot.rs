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

/// Writes `lorenz.svg` and `nakamoto.svg` into `dir`; returns their paths.
pub fn write_plots(report: &RunReport, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    std::fs::create_dir_all(dir).map_err(|e| err(dir)(&e))?;
    let lorenz_path = dir.join("lorenz.svg");
    lorenz_plot(report, &lorenz_path)?;
    let nakamoto_path = dir.join("nakamoto.svg");
    nakamoto_plot(report, &nakamoto_path)?;
    Ok(vec![lorenz_path, nakamoto_path])
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
        .draw_series(LineSeries::new(lorenz(&stake), RED.stroke_width(2)))
        .map_err(|x| e(&x))?
        .label("stake")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    chart
        .draw_series(LineSeries::new(lorenz(&voice), BLUE.stroke_width(2)))
        .map_err(|x| e(&x))?
        .label("voting power")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))?;
    Ok(())
}

/// A named, coloured series extracted from the epoch metrics.
type Series = (
    &'static str,
    RGBColor,
    fn(&crate::metrics::EpochMetrics) -> usize,
);

fn nakamoto_plot(report: &RunReport, path: &Path) -> Result<(), PlotError> {
    let e = err(path);
    let root = SVGBackend::new(path, (640, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let n = report.epochs.len().max(1) as u64;
    let ymax = report
        .epochs
        .iter()
        .map(|m| {
            m.nakamoto_voice
                .max(m.nakamoto_stake)
                .max(m.nakamoto_operator_stake)
                .max(m.nakamoto_accepted)
                .max(m.min_deciding_coalition.unwrap_or(0))
        })
        .max()
        .unwrap_or(1)
        .max(1) as u64
        + 1;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Nakamoto coefficient — {}", report.scenario),
            ("sans-serif", 20),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0u64..n, (1u64..ymax.max(2)).log_scale())
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("holders to reach 50% (log)")
        .draw()
        .map_err(|x| e(&x))?;
    let series: [Series; 5] = [
        ("stake", RED, |m| m.nakamoto_stake),
        ("voting power", BLUE, |m| m.nakamoto_voice),
        ("operator stake", GREEN, |m| m.nakamoto_operator_stake),
        ("accepted attestations", MAGENTA, |m| m.nakamoto_accepted),
        ("smallest deciding coalition", CYAN, |m| {
            m.min_deciding_coalition.unwrap_or(0)
        }),
    ];
    for (label, color, f) in series {
        chart
            .draw_series(LineSeries::new(
                report
                    .epochs
                    .iter()
                    .filter(|m| f(m) > 0)
                    .map(|m| (m.epoch, f(m) as u64)),
                color.stroke_width(2),
            ))
            .map_err(|x| e(&x))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))?;
    Ok(())
}
