//! Hostile input, end to end against the built `dplint` binary: alias bombs, nesting 10,000
//! levels deep (flow and block style), a 50 MB document, invalid UTF-8 in one document of a
//! stream, truncated files, and an alias bomb inside a ConfigMap's `config.conf`; and input that
//! once made dplint take quadratic time: a ConfigMap with 120,000 keys, a key repeated 40,000
//! times.
//!
//! For each input the binary must exit (status 1: `invalid-yaml` is an error), report `DP001
//! invalid-yaml` at the right line with a message that says what is wrong, still check every
//! other document and file of the run (each run carries a good document with a known `KP001
//! unknown-field` warning, `mdoe: nftables`), and keep its peak memory bounded.
//!
//! Memory is the child's peak resident set size as the kernel accounts it when the child is
//! reaped: `wait4` returns the rusage of exactly that child. (`getrusage(RUSAGE_CHILDREN)` keeps
//! a running maximum over every child ever reaped, which here includes the `cargo build` that
//! locates the binary, so it cannot attribute a peak to one case; `wait4` can.) Linux starts a
//! child's peak at its parent's peak (carried over `exec`), so the test writes large inputs
//! piece by piece and checks that its own peak stays small. The cases still
//! run one after another in one test, so no two children overlap on the machine. A watchdog
//! kills a child that runs for more than two minutes and fails the test: it is a hang guard,
//! not a timing assertion. Inputs are generated into a temporary directory.

#![cfg(target_os = "linux")]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::RangeInclusive;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use dplint_tests::{TempDir, UNKNOWN_FIELD, dplint_bin};
use serde_json::Value;

const WATCHDOG: Duration = Duration::from_secs(120);
const MIB: u64 = 1024 * 1024;
/// Bound on the peak RSS for inputs of a few megabytes at most.
const SMALL_RSS: u64 = 100 * MIB;
/// Bound on the peak RSS for the 50 MB inputs.
const LARGE_RSS: u64 = 300 * MIB;

/// How often the "repeated-keys" case repeats `mode: ipvs`.
const REPEATS: u32 = 40_000;

/// The line of `mdoe` in [`UNKNOWN_FIELD`].
const UNKNOWN_FIELD_LINE: u32 = 4;

/// What one run of the binary did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    /// Peak resident set size in bytes.
    max_rss: u64,
}

/// Runs `dplint ARGS` in `dir` (standard input from `stdin`, if given) under the watchdog.
fn run_guarded(dir: &Path, args: &[&str], stdin: Option<&Path>) -> Run {
    let out_path = dir.join(".stdout");
    let err_path = dir.join(".stderr");
    let stdin = match stdin {
        Some(path) => Stdio::from(File::open(path).expect("stdin file opens")),
        None => Stdio::null(),
    };
    let child = Command::new(dplint_bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(stdin)
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", dplint_bin().display()));
    let pid = child.id() as libc::pid_t;

    let (done, finished) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || match finished.recv_timeout(WATCHDOG) {
        Err(RecvTimeoutError::Timeout) => {
            // The child is not reaped before this thread ends, so the pid is still its own.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            true
        }
        _ => false,
    });

    // Wait for the child to end without reaping it (WNOWAIT), stop the watchdog, then reap it
    // with wait4 to read its resource usage.
    loop {
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if r == 0 {
            break;
        }
        let err = std::io::Error::last_os_error();
        assert_eq!(err.kind(), std::io::ErrorKind::Interrupted, "waitid: {err}");
    }
    let _ = done.send(());
    let killed = watchdog.join().expect("watchdog thread");

    let mut status: libc::c_int = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    drop(child);

    let stdout = String::from_utf8_lossy(&std::fs::read(&out_path).unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&std::fs::read(&err_path).unwrap_or_default()).into_owned();
    assert!(
        !killed,
        "dplint {args:?} ran for more than {WATCHDOG:?} and was killed (a hang)\nstderr:\n{stderr}"
    );
    assert!(
        libc::WIFEXITED(status),
        "dplint {args:?} did not exit normally (wait status {status:#x}, signal {}): a crash\nstderr:\n{stderr}",
        if libc::WIFSIGNALED(status) {
            libc::WTERMSIG(status)
        } else {
            0
        }
    );
    Run {
        code: libc::WEXITSTATUS(status),
        stdout,
        stderr,
        // Linux reports kilobytes.
        max_rss: usage.ru_maxrss as u64 * 1024,
    }
}

/// The peak RSS of this process's memory in bytes (`VmHWM`). Not `getrusage(RUSAGE_SELF)`:
/// that also carries the peak of whatever this process was exec'ed from (cargo).
fn peak_rss_of_self() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM in /proc/self/status");
    kib * 1024
}

/// A `DP001 invalid-yaml` finding the run must report.
struct Unreadable {
    file: &'static str,
    lines: RangeInclusive<u32>,
    /// Words the message must contain (case-insensitive).
    says: &'static [&'static str],
    /// The ConfigMap data key, for YAML embedded in a ConfigMap.
    data_key: Option<&'static str>,
}

impl Unreadable {
    fn at(file: &'static str, line: u32, says: &'static [&'static str]) -> Unreadable {
        Unreadable {
            file,
            lines: line..=line,
            says,
            data_key: None,
        }
    }
}

/// Writes a generated input.
type Generate = Box<dyn Fn(&mut dyn Write) -> std::io::Result<()>>;

/// The contents of an input file.
enum Input {
    Bytes(Vec<u8>),
    /// Written piece by piece, so that the test process never holds it: a child's peak RSS
    /// starts from its parent's peak (Linux carries it over `exec`), so the parent stays small.
    Stream(Generate),
}

impl Input {
    fn write_to(&self, path: &Path) {
        let result = match self {
            Input::Bytes(bytes) => std::fs::write(path, bytes),
            Input::Stream(write) => File::create(path).and_then(|file| {
                let mut out = BufWriter::new(file);
                write(&mut out)?;
                out.flush()
            }),
        };
        result.unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}

fn bytes(contents: impl Into<Vec<u8>>) -> Input {
    Input::Bytes(contents.into())
}

fn stream(write: impl Fn(&mut dyn Write) -> std::io::Result<()> + 'static) -> Input {
    Input::Stream(Box::new(write))
}

/// One hostile run: the files are written to a fresh directory and checked in one invocation.
struct Case {
    name: &'static str,
    files: Vec<(&'static str, Input)>,
    /// Extra arguments after `check --format json` (inputs included).
    args: Vec<&'static str>,
    /// A file to pass as standard input (its name in `files`).
    stdin: Option<&'static str>,
    /// A settings file to use (its name in `files`); otherwise `--no-config`.
    config: Option<&'static str>,
    unreadable: Vec<Unreadable>,
    /// `KP001 unknown-field` findings the run must still report: (file, line).
    checked: Vec<(&'static str, u32)>,
    max_rss: u64,
}

fn findings(report: &Value) -> Vec<&Value> {
    report["findings"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn show(findings: &[&Value]) -> String {
    findings
        .iter()
        .map(|f| {
            format!(
                "  {} {}:{}:{} {}",
                f["code"], f["file"], f["line"], f["column"], f["message"]
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs a case, checks what every case must hold, and returns the report for further checks.
fn run_case(case: &Case) -> Value {
    let dir = TempDir::new(&format!("hostile-{}", case.name));
    for (name, input) in &case.files {
        input.write_to(&dir.path().join(name));
    }
    let own_peak = peak_rss_of_self();
    assert!(
        own_peak < SMALL_RSS / 2,
        "the test process itself peaked at {} MiB; children inherit that peak, so the bounds would measure it",
        own_peak / MIB
    );
    let mut args = vec!["check", "--format", "json"];
    match case.config {
        Some(config) => args.extend(["--config", config]),
        None => args.push("--no-config"),
    }
    args.extend(&case.args);
    let stdin = case.stdin.map(|name| dir.path().join(name));
    let run = run_guarded(dir.path(), &args, stdin.as_deref());
    eprintln!(
        "{}: exit {}, peak RSS {:.1} MiB",
        case.name,
        run.code,
        run.max_rss as f64 / MIB as f64
    );

    let report: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: stdout is not a JSON report ({e})\nstdout:\n{}\nstderr:\n{}",
            case.name, run.stdout, run.stderr
        )
    });
    let all = findings(&report);
    let context = || format!("{}: findings:\n{}\nstderr:\n{}", case.name, show(&all), run.stderr);
    let expected_code = if case.unreadable.is_empty() { 0 } else { 1 };
    assert_eq!(run.code, expected_code, "exit status; {}", context());

    let invalid: Vec<&Value> = all.iter().copied().filter(|f| f["code"] == "DP001").collect();
    assert_eq!(
        invalid.len(),
        case.unreadable.len(),
        "number of DP001 findings; {}",
        context()
    );
    for want in &case.unreadable {
        let found = invalid
            .iter()
            .find(|f| f["file"] == want.file && f["line"].as_u64().is_some_and(|l| want.lines.contains(&(l as u32))));
        let Some(found) = found else {
            panic!("no DP001 in {} at lines {:?}; {}", want.file, want.lines, context());
        };
        assert_eq!(found["name"], "invalid-yaml", "{}", context());
        assert_eq!(found["severity"], "error", "{}", context());
        assert!(found["column"].as_u64().is_some_and(|c| c >= 1), "{}", context());
        let message = found["message"].as_str().unwrap_or_default().to_lowercase();
        for word in want.says {
            assert!(
                message.contains(&word.to_lowercase()),
                "DP001 message lacks {word:?}: {message}; {}",
                context()
            );
        }
        if let Some(key) = want.data_key {
            assert_eq!(found["dataKey"], key, "{}", context());
        }
    }
    for (file, line) in &case.checked {
        let found = all
            .iter()
            .any(|f| f["code"] == "KP001" && f["file"] == *file && f["line"] == *line);
        assert!(
            found,
            "KP001 in {file} line {line} is missing: the other documents were not checked; {}",
            context()
        );
    }
    let inputs = case.args.iter().filter(|a| !a.starts_with('-') || **a == "-").count();
    assert_eq!(
        report["summary"]["files"],
        inputs,
        "every input is reported; {}",
        context()
    );
    assert!(
        run.max_rss < case.max_rss,
        "{}: peak RSS {} MiB is over the bound of {} MiB",
        case.name,
        run.max_rss / MIB,
        case.max_rss / MIB
    );
    report
}

// ---- Inputs ------------------------------------------------------------------------------

const KUBE_PROXY_HEADER: &str = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";

/// "Billion laughs": `a0` holds ten strings and each further level ten aliases of the one
/// before, so `a9` expands to 10^10 nodes. One line per level.
fn laughs(levels: usize) -> Vec<String> {
    let mut lines = vec![format!("a0: &a0 [{}]", ["\"lol\""; 10].join(", "))];
    for i in 1..levels {
        lines.push(format!("a{i}: &a{i} [{}]", vec![format!("*a{}", i - 1); 10].join(", ")));
    }
    lines
}

fn lines(text: &str) -> u32 {
    text.lines().count() as u32
}

fn one_line_nesting(open: &str, close: &str, depth: usize) -> String {
    format!("{}{}", open.repeat(depth), close.repeat(depth))
}

/// Block mappings nested `depth` levels deep, one more space of indentation per level
/// (`depth` lines, about depth²/2 bytes).
fn write_indented_mappings(out: &mut dyn Write, depth: usize) -> std::io::Result<()> {
    let spaces = vec![b' '; depth];
    for level in 0..depth {
        out.write_all(&spaces[..level])?;
        out.write_all(b"a:\n")?;
    }
    out.write_all(&spaces)?;
    out.write_all(b"end\n")
}

/// A kube-proxy ConfigMap with `keys` data keys of about 60 bytes a line (6 + `keys` lines).
fn write_wide_config_map(out: &mut dyn Write, keys: u64) -> std::io::Result<()> {
    out.write_all(
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n",
    )?;
    for i in 0..keys {
        // Deterministic, varied values (a linear congruential sequence).
        let v = i.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) >> 24;
        writeln!(out, "  key-{i}: \"value {v:x} of the kube-proxy ConfigMap\"")?;
    }
    Ok(())
}

fn cases() -> Vec<Case> {
    let good = || ("good.yaml", bytes(UNKNOWN_FIELD));
    let mut cases = Vec::new();

    // An alias bomb in a kube-proxy configuration (built into nodes: the loader's path).
    let bomb_lines = laughs(10);
    let bomb = format!("{KUBE_PROXY_HEADER}{}\n", bomb_lines.join("\n"));
    cases.push(Case {
        name: "alias-bomb",
        files: vec![("bomb.yaml", bytes(bomb)), good()],
        args: vec!["bomb.yaml", "good.yaml"],
        stdin: None,
        config: None,
        // The limit is crossed somewhere among the alias lines.
        unreadable: vec![Unreadable {
            file: "bomb.yaml",
            lines: 4..=12,
            says: &["alias", "maxExpandedNodes"],
            data_key: None,
        }],
        checked: vec![("good.yaml", UNKNOWN_FIELD_LINE)],
        max_rss: SMALL_RSS,
    });

    // The classic bomb, about nothing dplint checks (only validated: the syntax-only path), as
    // the second document of a stream read from standard input.
    let classic = format!("{UNKNOWN_FIELD}---\n{}\n", laughs(10).join("\n"));
    cases.push(Case {
        name: "alias-bomb-stdin",
        files: vec![("stream.yaml", bytes(classic))],
        args: vec!["-"],
        stdin: Some("stream.yaml"),
        config: None,
        unreadable: vec![Unreadable {
            file: "<stdin>",
            lines: 7..=15,
            says: &["alias", "maxExpandedNodes"],
            data_key: None,
        }],
        checked: vec![("<stdin>", UNKNOWN_FIELD_LINE)],
        max_rss: SMALL_RSS,
    });

    // An alias bomb in the config.conf of the kube-proxy ConfigMap: reported in the outer file,
    // inside the literal block.
    let mut embedded = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n",
    );
    let block_start = lines(&embedded) + 1;
    for line in KUBE_PROXY_HEADER
        .lines()
        .chain(["mode: ipvs"])
        .map(str::to_string)
        .chain(laughs(10))
    {
        embedded.push_str(&format!("    {line}\n"));
    }
    let block_end = lines(&embedded);
    let embedded = format!("{embedded}---\n{UNKNOWN_FIELD}");
    cases.push(Case {
        name: "configmap-alias-bomb",
        files: vec![("kube-proxy.yaml", bytes(embedded))],
        args: vec!["kube-proxy.yaml"],
        stdin: None,
        config: None,
        unreadable: vec![Unreadable {
            file: "kube-proxy.yaml",
            lines: block_start..=block_end,
            says: &["config.conf", "alias", "maxExpandedNodes"],
            data_key: Some("config.conf"),
        }],
        checked: vec![("kube-proxy.yaml", block_end + 1 + UNKNOWN_FIELD_LINE)],
        max_rss: SMALL_RSS,
    });

    // Flow collections 10,000 deep, in a document dplint only validates and in one it loads.
    let flow = format!("nested: {}\n", one_line_nesting("[", "]", 10_000));
    let flow_loaded = format!("{KUBE_PROXY_HEADER}mode: {}\n", one_line_nesting("[", "]", 10_000));
    let flow_maps = format!("{KUBE_PROXY_HEADER}ipvs: {}\n", one_line_nesting("{a: ", "}", 10_000));
    cases.push(Case {
        name: "flow-nesting",
        files: vec![
            ("flow.yaml", bytes(flow)),
            ("flow-loaded.yaml", bytes(flow_loaded)),
            ("flow-maps.yaml", bytes(flow_maps)),
            good(),
        ],
        args: vec!["flow.yaml", "flow-loaded.yaml", "flow-maps.yaml", "good.yaml"],
        stdin: None,
        config: None,
        unreadable: vec![
            Unreadable::at("flow.yaml", 1, &["deeper"]),
            Unreadable::at("flow-loaded.yaml", 3, &["deeper"]),
            Unreadable::at("flow-maps.yaml", 3, &["deeper"]),
        ],
        checked: vec![("good.yaml", UNKNOWN_FIELD_LINE)],
        max_rss: SMALL_RSS,
    });

    // Block sequences 10,000 deep (`- - - …`, compact, on one line), validated and loaded, with
    // a good document after them in the same stream.
    let block = format!("{}x\n---\n{UNKNOWN_FIELD}", "- ".repeat(10_000));
    let block_loaded = format!("{KUBE_PROXY_HEADER}ipvs:\n{}x\n", "- ".repeat(10_000));
    cases.push(Case {
        name: "block-nesting",
        files: vec![("block.yaml", bytes(block)), ("block-loaded.yaml", bytes(block_loaded))],
        args: vec!["block.yaml", "block-loaded.yaml"],
        stdin: None,
        config: None,
        unreadable: vec![
            Unreadable::at("block.yaml", 1, &["deeper", "maxDepth"]),
            Unreadable::at("block-loaded.yaml", 4, &["deeper", "maxDepth"]),
        ],
        checked: vec![("block.yaml", 2 + UNKNOWN_FIELD_LINE)],
        max_rss: SMALL_RSS,
    });

    // Invalid UTF-8 in the second of three documents.
    let mut mixed = Vec::new();
    mixed.extend_from_slice(UNKNOWN_FIELD.as_bytes());
    mixed.extend_from_slice(
        b"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy-notes\n  annotations:\n",
    );
    let bad_line = lines(UNKNOWN_FIELD) + 7;
    mixed.extend_from_slice(b"    note: \"caf\xe9 \xff\xfe\"\n---\n");
    // The line before the third document's first line.
    let third = lines(UNKNOWN_FIELD) + 8;
    mixed.extend_from_slice(UNKNOWN_FIELD.as_bytes());
    cases.push(Case {
        name: "invalid-utf8",
        files: vec![("mixed.yaml", bytes(mixed))],
        args: vec!["mixed.yaml"],
        stdin: None,
        config: None,
        unreadable: vec![Unreadable::at("mixed.yaml", bad_line, &["UTF-8", "document 2"])],
        checked: vec![
            ("mixed.yaml", UNKNOWN_FIELD_LINE),
            ("mixed.yaml", third + UNKNOWN_FIELD_LINE),
        ],
        max_rss: SMALL_RSS,
    });

    // Truncated files: inside a quoted string, inside a flow collection, and in the middle of a
    // multi-byte character (both truncated and invalid UTF-8).
    let full = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command: [\"/usr/local/bin/kube-proxy\", \"--config=/var/lib/kube-proxy/config.conf\", \"--proxy-mode=ipvs\"]\n        image: \"registry.k8s.io/kube-proxy:v1.34.1\"\n";
    let quoted = format!(
        "{UNKNOWN_FIELD}---\n{}",
        &full[..full.find("v1.34").expect("image tag")]
    );
    let flow = format!(
        "{UNKNOWN_FIELD}---\n{}",
        &full[..full.find("--proxy-mode").expect("flag")]
    );
    let mut multibyte = format!(
        "{UNKNOWN_FIELD}---\n{}",
        &full[..full.find("        image").expect("image")]
    )
    .into_bytes();
    multibyte.extend_from_slice("        image: \"kube-proxy-€".as_bytes());
    multibyte.truncate(multibyte.len() - 2);
    let last = lines(UNKNOWN_FIELD) + 1 + lines(full);
    cases.push(Case {
        name: "truncated",
        files: vec![
            ("quoted.yaml", bytes(quoted)),
            ("flow.yaml", bytes(flow)),
            ("multibyte.yaml", bytes(multibyte)),
        ],
        args: vec!["quoted.yaml", "flow.yaml", "multibyte.yaml"],
        stdin: None,
        config: None,
        unreadable: vec![
            Unreadable {
                file: "quoted.yaml",
                lines: last..=last + 1,
                says: &["document 2"],
                data_key: None,
            },
            Unreadable {
                file: "flow.yaml",
                lines: last - 1..=last,
                says: &["document 2"],
                data_key: None,
            },
            Unreadable::at("multibyte.yaml", last, &["document 2", "UTF-8"]),
        ],
        checked: vec![
            ("quoted.yaml", UNKNOWN_FIELD_LINE),
            ("flow.yaml", UNKNOWN_FIELD_LINE),
            ("multibyte.yaml", UNKNOWN_FIELD_LINE),
        ],
        max_rss: SMALL_RSS,
    });

    // A kube-proxy ConfigMap with 120,000 data keys (about 7 MB, under the document limit):
    // looking keys up must not take time quadratic in their number.
    const WIDE_KEYS: u64 = 120_000;
    cases.push(Case {
        name: "wide-configmap",
        files: vec![(
            "wide.yaml",
            stream(|out| {
                write_wide_config_map(out, WIDE_KEYS)?;
                out.write_all(b"  config.conf: |\n")?;
                UNKNOWN_FIELD.lines().try_for_each(|line| writeln!(out, "    {line}"))
            }),
        )],
        args: vec!["wide.yaml"],
        stdin: None,
        config: None,
        unreadable: vec![],
        checked: vec![("wide.yaml", 6 + WIDE_KEYS as u32 + 1 + UNKNOWN_FIELD_LINE)],
        max_rss: SMALL_RSS,
    });

    // A single 50 MB document: over the default limit of 8 MiB, reported where it starts.
    cases.push(Case {
        name: "50mb-document",
        files: vec![(
            "huge.yaml",
            stream(|out| {
                writeln!(out, "{UNKNOWN_FIELD}---")?;
                write_wide_config_map(out, 850_000)
            }),
        )],
        args: vec!["huge.yaml"],
        stdin: None,
        config: None,
        unreadable: vec![Unreadable::at(
            "huge.yaml",
            5,
            &["document 2", "bytes", "maxDocumentBytes"],
        )],
        checked: vec![("huge.yaml", UNKNOWN_FIELD_LINE)],
        max_rss: LARGE_RSS,
    });

    // Block mappings nested 10,000 deep by indentation are 50 MB of text; with the document
    // limit raised so that the document is parsed, nesting stops it at the depth limit.
    cases.push(Case {
        name: "indented-nesting-50mb",
        files: vec![
            (
                "deep.yaml",
                stream(|out| {
                    out.write_all(KUBE_PROXY_HEADER.as_bytes())?;
                    write_indented_mappings(out, 10_000)
                }),
            ),
            good(),
            ("limits.yaml", bytes("limits:\n  maxDocumentBytes: 67108864\n")),
        ],
        args: vec!["deep.yaml", "good.yaml"],
        stdin: None,
        config: Some("limits.yaml"),
        unreadable: vec![Unreadable::at("deep.yaml", 131, &["deeper", "maxDepth"])],
        checked: vec![("good.yaml", UNKNOWN_FIELD_LINE)],
        max_rss: LARGE_RSS,
    });

    // A kube-proxy configuration that repeats one key 40,000 times (440 KB, under every
    // limit): `duplicate-field` (KP002) once took time quadratic in the repetitions (100 s for
    // 80,000 in a release build); it must report the last one, once.
    cases.push(Case {
        name: "repeated-keys",
        files: vec![(
            "repeated.yaml",
            stream(|out| {
                out.write_all(KUBE_PROXY_HEADER.as_bytes())?;
                (0..REPEATS).try_for_each(|_| out.write_all(b"mode: ipvs\n"))
            }),
        )],
        args: vec!["repeated.yaml"],
        stdin: None,
        config: None,
        unreadable: vec![],
        checked: vec![],
        max_rss: SMALL_RSS,
    });

    cases
}

/// One test, so that the children run one at a time.
#[test]
fn hostile_inputs_are_reported_and_bounded() {
    for case in cases() {
        let report = run_case(&case);
        if case.name == "repeated-keys" {
            let repeated: Vec<&Value> = findings(&report).into_iter().filter(|f| f["code"] == "KP002").collect();
            assert_eq!(
                repeated.len(),
                1,
                "one KP002 for the repeated key:\n{}",
                show(&repeated)
            );
            assert_eq!(repeated[0]["line"], 2 + REPEATS, "KP002 points at the last repetition");
        }
    }
}
