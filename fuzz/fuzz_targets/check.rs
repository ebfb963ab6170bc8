//! Feeds arbitrary bytes to dplint's reader and rules, and renders the report in every format.
//!
//! A NUL byte (never valid in YAML) splits the data into two inputs, so that rules that look
//! across files (a ConfigMap in one file, the DaemonSet that mounts it in another) are reached
//! too. The target calls `read_source` and `check` — exactly what `check_inputs` does — so that
//! it can also hand the read sources to the renderers: the text format slices source lines by
//! column, a classic place for a panic on odd input. SARIF and JUnit reports carry the whole
//! (static) rule catalogue, which costs more than reading and checking a small input, so they
//! are rendered for one input length in eight only.

#![no_main]

use dplint_core::{CheckOptions, Format, RenderOptions, check, read_source, render};
use libfuzzer_sys::fuzz_target;

const CHEAP_FORMATS: [Format; 3] = [Format::Text, Format::Json, Format::Github];
const CATALOGUE_FORMATS: [Format; 2] = [Format::Sarif, Format::Junit];

fuzz_target!(|data: &[u8]| {
    let (first, second) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let options = CheckOptions::default();
    let mut files = vec![read_source("a.yaml", first, &options.limits)];
    if let Some(second) = second {
        files.push(read_source("dir/b.yaml", second, &options.limits));
    }
    let report = check(&files, &options);
    let color = data.len() % 2 == 1;
    let catalogue: &[Format] = if data.len() % 8 == 0 { &CATALOGUE_FORMATS } else { &[] };
    for &format in CHEAP_FORMATS.iter().chain(catalogue) {
        std::hint::black_box(render(
            format,
            &report,
            &files,
            RenderOptions {
                color,
                ..RenderOptions::default()
            },
        ));
    }
});
