//! The dashboard's two charts, drawn on the server as SVG (no chart library in the browser,
//! nothing for the content security policy to allow): colours are presentation attributes,
//! every chart has a title and a description for screen readers, and every bar a tooltip.

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A round upper bound for an axis.
fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let exp = v.log10().floor();
    let base = 10f64.powf(exp);
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if v <= m * base {
            return m * base;
        }
    }
    10.0 * base
}

/// Horizontal bars: one per (label, value, shown text), longest first as given.
pub fn bars(title_id: &str, desc: &str, rows: &[(String, f64, String)]) -> String {
    if rows.is_empty() {
        return format!(
            "<p class=\"chart-empty\" aria-labelledby=\"{title_id}\">Nothing to show yet.</p>"
        );
    }
    let row_h = 26.0;
    let label_w = 170.0;
    let bar_w = 300.0;
    let width = label_w + bar_w + 130.0;
    let height = row_h * rows.len() as f64 + 10.0;
    let max = nice_max(rows.iter().map(|r| r.1).fold(0.0, f64::max));
    let mut s = format!(
        "<svg class=\"chart\" role=\"img\" aria-labelledby=\"{title_id} {title_id}-desc\" \
         viewBox=\"0 0 {width} {height}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" \
         xmlns=\"http://www.w3.org/2000/svg\"><desc id=\"{title_id}-desc\">{}</desc>",
        esc(desc)
    );
    for (i, (label, v, shown)) in rows.iter().enumerate() {
        let y = 5.0 + i as f64 * row_h;
        let w = if max > 0.0 { (v / max) * bar_w } else { 0.0 };
        let short: String = label.chars().take(24).collect();
        s.push_str(&format!(
            "<g><title>{}: {}</title>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\" fill=\"#1f2933\">{}</text>\
             <rect x=\"{label_w}\" y=\"{}\" width=\"{:.1}\" height=\"{}\" fill=\"#2f6f9f\" rx=\"2\"></rect>\
             <text x=\"{:.1}\" y=\"{}\" font-size=\"12\" fill=\"#1f2933\">{}</text></g>",
            esc(label),
            esc(shown),
            label_w - 8.0,
            y + 16.0,
            esc(&short),
            y + 4.0,
            w.max(1.0),
            row_h - 8.0,
            label_w + w + 6.0,
            y + 16.0,
            esc(shown)
        ));
    }
    s.push_str("</svg>");
    s
}

/// Paired columns per day: units in and units out.
pub fn in_out(title_id: &str, desc: &str, days: &[(String, i64, i64)]) -> String {
    let width = 640.0;
    let height = 220.0;
    let left = 44.0;
    let bottom = 30.0;
    let top = 12.0;
    let plot_h = height - bottom - top;
    let n = days.len().max(1) as f64;
    let slot = (width - left - 10.0) / n;
    let max = nice_max(days.iter().map(|d| d.1.max(d.2) as f64).fold(0.0, f64::max));
    let mut s = format!(
        "<svg class=\"chart\" role=\"img\" aria-labelledby=\"{title_id} {title_id}-desc\" \
         viewBox=\"0 0 {width} {height}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" \
         xmlns=\"http://www.w3.org/2000/svg\"><desc id=\"{title_id}-desc\">{}</desc>",
        esc(desc)
    );
    // Axis and gridlines at 0, half and max.
    for frac in [0.0, 0.5, 1.0] {
        let y = top + plot_h * (1.0 - frac);
        s.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d0d7de\" stroke-width=\"1\"></line>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\" fill=\"#1f2933\">{}</text>",
            width - 10.0,
            left - 4.0,
            y + 4.0,
            (max * frac).round() as i64
        ));
    }
    for (i, (day, inn, out)) in days.iter().enumerate() {
        let x = left + i as f64 * slot;
        let bw = (slot / 2.0 - 1.0).max(1.0);
        let hi = (*inn as f64 / max) * plot_h;
        let ho = (*out as f64 / max) * plot_h;
        s.push_str(&format!(
            "<g><title>{}: {} in, {} out</title>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{hi:.1}\" fill=\"#2f6f9f\"></rect>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{ho:.1}\" fill=\"#c2410c\"></rect></g>",
            esc(day),
            inn,
            out,
            x + 1.0,
            top + plot_h - hi,
            x + 1.0 + bw,
            top + plot_h - ho,
        ));
        // A date every week, counted back from the last day so the newest is always named.
        if (days.len() - 1 - i).is_multiple_of(7) {
            let label = day.get(5..).unwrap_or(day);
            s.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" fill=\"#1f2933\">{}</text>",
                x,
                height - 10.0,
                esc(label)
            ));
        }
    }
    s.push_str(&format!(
        "<g font-size=\"11\" fill=\"#1f2933\"><rect x=\"{}\" y=\"2\" width=\"10\" height=\"10\" fill=\"#2f6f9f\"></rect>\
         <text x=\"{}\" y=\"11\">in</text><rect x=\"{}\" y=\"2\" width=\"10\" height=\"10\" fill=\"#c2410c\"></rect>\
         <text x=\"{}\" y=\"11\">out</text></g></svg>",
        width - 110.0,
        width - 96.0,
        width - 70.0,
        width - 56.0
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_bars_scale_to_the_largest() {
        let svg = bars(
            "t",
            "d",
            &[
                ("<Tools>".into(), 100.0, "100.00".into()),
                ("Garden".into(), 50.0, "50.00".into()),
            ],
        );
        assert!(svg.contains("&lt;Tools&gt;"));
        assert!(!svg.contains("<Tools>"));
        assert!(svg.contains("width=\"300.0\""), "{svg}");
        assert!(svg.contains("width=\"150.0\""), "{svg}");
    }

    #[test]
    fn an_empty_chart_says_so() {
        assert!(bars("t", "d", &[]).contains("Nothing to show yet."));
    }

    #[test]
    fn in_out_draws_one_pair_per_day() {
        let days: Vec<(String, i64, i64)> = (1..=30)
            .map(|d| (format!("2026-11-{d:02}"), d, 30 - d))
            .collect();
        let svg = in_out("t", "d", &days);
        assert_eq!(svg.matches("<g><title>").count(), 30);
        assert!(svg.contains("2026-11-05: 5 in, 25 out"));
    }
}
