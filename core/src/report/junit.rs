//! Placeholder until the junit format lands.

use super::Report;

pub fn render(report: &Report) -> String {
    super::json::render(report)
}
