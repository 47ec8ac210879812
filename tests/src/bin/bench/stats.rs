//! Medians and spreads of the samples every measurement takes.

#[derive(Clone, Debug)]
pub struct Stats {
    pub n: usize,
    pub median: f64,
    pub p25: f64,
    pub p75: f64,
    pub min: f64,
    pub max: f64,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

pub fn stats(samples: &[f64]) -> Stats {
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Stats {
        n: s.len(),
        median: quantile(&s, 0.5),
        p25: quantile(&s, 0.25),
        p75: quantile(&s, 0.75),
        min: s[0],
        max: s[s.len() - 1],
    }
}

pub fn ms(st: &Stats) -> String {
    format!("{:.2} ms", st.median)
}

pub fn spread(st: &Stats) -> String {
    format!(
        "IQR {:.2}–{:.2}, min–max {:.2}–{:.2} (n={})",
        st.p25, st.p75, st.min, st.max, st.n
    )
}
