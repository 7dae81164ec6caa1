//! SVG plots of the figures (plotters, SVG backend only): cost per evaluation of each
//! engine, and dispatch time against the number of automations.

use std::path::Path;

use plotters::prelude::*;
use serde_json::Value;

type Drawn = Result<(), Box<dyn std::error::Error>>;

fn conditions(c: &Value, path: &Path) -> Drawn {
    let (key, label) = if c["callgrind_ops"].as_u64().unwrap_or(0) > 0 {
        (
            "geomean_instr_eval",
            "instructions per evaluation (geometric mean, log scale)",
        )
    } else {
        (
            "geomean_ns_eval",
            "ns per evaluation (geometric mean, log scale)",
        )
    };
    let bars: Vec<(String, f64)> = c["summary"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| Some((s["engine"].as_str()?.to_string(), s[key].as_f64()?)))
        .collect();
    let top = bars.iter().map(|b| b.1).fold(1.0, f64::max) * 3.0;
    let root = SVGBackend::new(path, (800, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Condition evaluation, record prepared", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(0..bars.len(), (1.0..top).log_scale())?;
    let names: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(bars.len() + 1)
        .x_label_formatter(&|i| names.get(*i).cloned().unwrap_or_default())
        .y_desc(label)
        .draw()?;
    chart.draw_series(bars.iter().enumerate().map(|(i, (name, v))| {
        let color = if name == "ours" {
            BLUE
        } else {
            RGBColor(150, 150, 150)
        };
        Rectangle::new([(i, 1.0), (i + 1, *v)], color.filled())
    }))?;
    root.present()?;
    Ok(())
}

/// (automations, ns per event, full scan ns) of one series of the dispatch figures.
fn dispatch_series(d: &Value, key: &str) -> Vec<(f64, f64, Option<f64>)> {
    d[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some((
                p["automations"].as_f64()?,
                p["ns_per_event"].as_f64()?,
                p["ns_full_scan"].as_f64(),
            ))
        })
        .collect()
}

fn dispatch(d: &Value, path: &Path) -> Drawn {
    let points = dispatch_series(d, "points");
    let coarse = dispatch_series(d, "coarse_points");
    let top = points
        .iter()
        .chain(&coarse)
        .flat_map(|p| [p.1, p.2.unwrap_or(0.0)])
        .fold(10.0, f64::max)
        * 3.0;
    let root = SVGBackend::new(path, (800, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Dispatch: one event vs active automations",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d((5.0..200_000.0).log_scale(), (10.0..top).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("active automations (log scale)")
        .y_desc("ns per event (log scale)")
        .draw()?;
    let lines = [
        (&points, BLUE, "dispatch index, selective workload"),
        (&coarse, GREEN, "dispatch index, coarse workload (8% match)"),
    ];
    for (series, color, label) in lines {
        let index: Vec<(f64, f64)> = series.iter().map(|p| (p.0, p.1)).collect();
        if index.is_empty() {
            continue;
        }
        chart
            .draw_series(LineSeries::new(index.clone(), color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart.draw_series(index.iter().map(|p| Circle::new(*p, 4, color.filled())))?;
    }
    let scan: Vec<(f64, f64)> = points.iter().filter_map(|p| Some((p.0, p.2?))).collect();
    chart
        .draw_series(LineSeries::new(scan, RED.stroke_width(2)))?
        .label("full scan (reference evaluator), selective")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    chart
        .draw_series(LineSeries::new(
            vec![(5.0, 1000.0), (200_000.0, 1000.0)],
            BLACK.stroke_width(1),
        ))?
        .label("1 µs")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// Draws what `figures` has; returns the file names written into `dir`.
pub fn draw(figures: &Value, dir: &Path) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    if let Some(c) = figures.get("conditions") {
        conditions(c, &dir.join("conditions.svg")).map_err(|e| anyhow::anyhow!("{e}"))?;
        written.push("conditions.svg".to_string());
    }
    if let Some(d) = figures.get("dispatch") {
        dispatch(d, &dir.join("dispatch.svg")).map_err(|e| anyhow::anyhow!("{e}"))?;
        written.push("dispatch.svg".to_string());
    }
    Ok(written)
}
