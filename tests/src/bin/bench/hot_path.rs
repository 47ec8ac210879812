//! Section 4, the ingress hot path, read from criterion's output (`cargo bench -p hookrelay --bench
//! hot_path`).

use std::path::Path;

use serde_json::Value;

/// (median ns, lower, upper of its 95% confidence interval) from criterion's estimates.json.
pub fn criterion_median(dir: &Path, group: &str, case: &str) -> Option<(f64, f64, f64)> {
    let text = std::fs::read_to_string(dir.join(group).join(case).join("new/estimates.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let m = v.get("median")?;
    Some((
        m["point_estimate"].as_f64()?,
        m["confidence_interval"]["lower_bound"].as_f64()?,
        m["confidence_interval"]["upper_bound"].as_f64()?,
    ))
}

pub fn us(ns: f64) -> String {
    format!("{:.2} µs", ns / 1000.0)
}
