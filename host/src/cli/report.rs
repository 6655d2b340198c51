//! Human-readable summaries of a model fit for the terminal.

/// A table of channels: spend, contribution, ROI with its interval, and
/// marginal ROI, from a model summary's `channels` list, then the
/// summary's `warnings`. Missing figures print as `-`, so any model's
/// summary renders.
pub fn channel_table(summary: &serde_json::Value) -> String {
    let Some(channels) = summary.get("channels").and_then(|c| c.as_array()) else {
        return serde_json::to_string_pretty(summary).unwrap_or_default();
    };
    let number = |v: Option<&serde_json::Value>, digits: usize| {
        v.and_then(|v| v.as_f64())
            .map_or("-".to_owned(), |x| format!("{x:.digits$}"))
    };
    let mut out = format!(
        "{:<16} {:>14} {:>14} {:>8} {:>19} {:>8}\n",
        "channel", "spend", "contribution", "ROI", "ROI interval", "mROI"
    );
    for c in channels {
        let interval = match c.get("roi_interval").and_then(|i| i.as_array()) {
            Some(bounds) if bounds.len() == 2 => format!(
                "[{}, {}]",
                number(bounds.first(), 2),
                number(bounds.get(1), 2)
            ),
            _ => "-".to_owned(),
        };
        out.push_str(&format!(
            "{:<16} {:>14} {:>14} {:>8} {:>19} {:>8}\n",
            c.get("channel").and_then(|n| n.as_str()).unwrap_or("?"),
            number(c.get("spend"), 0),
            number(c.get("contribution"), 0),
            number(c.get("roi"), 2),
            interval,
            number(c.get("mroi").or_else(|| c.get("marginal_roi")), 2),
        ));
    }
    let warnings = summary.get("warnings").and_then(|w| w.as_array());
    for warning in warnings.into_iter().flatten().filter_map(|w| w.as_str()) {
        out.push_str(&format!("warning: {warning}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn channels_render_as_aligned_rows() {
        let summary = json!({ "channels": [
            { "channel": "tv", "spend": 1000.0, "contribution": 2500.0, "roi": 2.5, "roi_interval": [2.0, 3.1], "mroi": 1.2 },
            { "channel": "search", "spend": 10.0 }
        ], "warnings": ["`search` never went dark"] });
        let table = super::channel_table(&summary);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[3], "warning: `search` never went dark");
        assert!(
            lines[1].contains("[2.00, 3.10]") && lines[1].contains("2.50"),
            "{table}"
        );
        assert!(lines[2].starts_with("search") && lines[2].contains('-'));
    }
}
