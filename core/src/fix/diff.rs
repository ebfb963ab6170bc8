//! Unified diffs of fixed files, for `--diff` and the browser checker.

/// A unified diff (three lines of context) from `old` to `new` of the file `name`; empty when
/// they are equal.
pub fn unified_diff(name: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .missing_newline_hint(true)
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn shows_only_the_changed_lines_with_context() {
        let diff = super::unified_diff("kp.yaml", "a\nmode: ipvs\nb\n", "a\nmode: nftables\nb\n");
        assert_eq!(
            diff,
            "--- a/kp.yaml\n+++ b/kp.yaml\n@@ -1,3 +1,3 @@\n a\n-mode: ipvs\n+mode: nftables\n b\n"
        );
        assert_eq!(super::unified_diff("x", "same", "same"), "");
    }
}
