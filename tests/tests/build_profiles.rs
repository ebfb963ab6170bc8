//! The workspace's build profiles: release binaries ship without debug information or symbols,
//! the `profiling` profile (and the benchmarks, which inherit it) keeps line tables, and the
//! WebAssembly profile keeps the custom sections wasm-bindgen reads.

use std::collections::BTreeMap;

use dplint_tests::workspace;

/// `[profile.NAME]` sections of the workspace manifest: key to raw value (`"line-tables-only"`
/// keeps its quotes). Enough TOML for the flat `key = value` lines profiles are written in.
fn profiles() -> BTreeMap<String, BTreeMap<String, String>> {
    let path = workspace().join("Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = section.strip_prefix("profile.").map(str::to_string);
            continue;
        }
        if let (Some(profile), Some((key, value))) = (&current, line.split_once('=')) {
            out.entry(profile.clone())
                .or_default()
                .insert(key.trim().to_string(), value.trim().to_string());
        }
    }
    out
}

/// A profile's value of `key`, following `inherits` (built-in profiles end the chain).
fn setting(profiles: &BTreeMap<String, BTreeMap<String, String>>, profile: &str, key: &str) -> Option<String> {
    let mut name = profile.to_string();
    for _ in 0..8 {
        let section = profiles.get(&name)?;
        if let Some(value) = section.get(key) {
            return Some(value.clone());
        }
        name = section.get("inherits")?.trim_matches('"').to_string();
    }
    panic!("profile {profile} inherits in a loop");
}

#[test]
fn release_binaries_are_stripped() {
    let profiles = profiles();
    assert_eq!(setting(&profiles, "release", "strip").as_deref(), Some("true"));
    assert_eq!(setting(&profiles, "release", "debug").as_deref(), Some("false"));
}

#[test]
fn profiling_and_bench_keep_line_tables() {
    let profiles = profiles();
    for profile in ["profiling", "bench"] {
        assert_eq!(
            setting(&profiles, profile, "debug").as_deref(),
            Some("\"line-tables-only\""),
            "profile {profile}"
        );
        // Inherited from release, `strip = true` would remove the line tables again.
        assert_eq!(
            setting(&profiles, profile, "strip").as_deref(),
            Some("\"none\""),
            "profile {profile}"
        );
        assert_eq!(
            setting(&profiles, profile, "lto"),
            setting(&profiles, "release", "lto"),
            "profile {profile} optimises as release does"
        );
    }
}

#[test]
fn the_wasm_profile_does_not_strip_symbols() {
    let profiles = profiles();
    assert_eq!(
        setting(&profiles, "wasm-release", "strip").as_deref(),
        Some("\"debuginfo\"")
    );
}
