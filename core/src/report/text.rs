//! Placeholder until the text format lands.

use super::{RenderOptions, Report};
use crate::source::SourceFile;

pub fn render(report: &Report, _sources: &[SourceFile], _options: RenderOptions) -> String {
    let mut out = String::new();
    for f in &report.findings {
        out.push_str(&format!("{}:{}:{}: {} {} [{}] {}\n", f.file, f.line, f.column, f.severity, f.code, f.name, f.message));
    }
    out
}
