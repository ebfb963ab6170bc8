//! Properties of fixes over generated inputs: every fix the engine offers fits its file (byte
//! ranges on character boundaries, in order, not overlapping), and applying fixes never leaves a
//! file that reads worse than before; [`apply_fixes`] never lets two fixes of a round touch the
//! same text, and leaves a file untouched when its only fix would break it.

use dplint_core::{
    Applicability, CheckOptions, Edit, Fix, FixInput, FixOptions, Input, SkipReason, SourceRole, apply_fixes, check,
    check_inputs, fix_inputs, read_source,
};
use proptest::prelude::*;

/// A KubeProxyConfiguration from generated choices, standalone or inside the kube-proxy
/// ConfigMap (literal block or JSON string), with comments here and there.
fn kube_proxy_input() -> impl Strategy<Value = String> {
    let mode = prop::sample::select(vec!["ipvs", "\"ipvs\"", "iptables", "nftables", "''", "IPVS"]);
    let extra = prop::collection::vec(
        prop::sample::select(vec![
            "ipvs:\n  scheduler: rr\n",
            "ipvs:\n  strictARP: true\n  # keep for MetalLB\n  syncPeriod: 30s\n",
            "iptables:\n  masqueradeAll: true\n  syncPeriod: 10s\n",
            "nftables:\n  syncPeriod: 5s\n",
            "featureGates:\n  KubeProxyIPVS: true\n",
            "clusterCIDR: 10.244.0.0/16\n",
            "# a comment line\n",
            "nodePortAddresses: [primary]\n",
            "bindAddress: 0.0.0.0\n",
        ]),
        0..5,
    );
    let carrier = 0..3u8;
    (mode, extra, carrier).prop_map(|(mode, extra, carrier)| {
        let config = format!(
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: {mode}\n{}",
            extra.concat()
        );
        match carrier {
            0 => config,
            1 => {
                let indented: String = config.lines().map(|l| format!("    {l}\n")).collect();
                format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n{indented}"
                )
            }
            _ => format!(
                "{{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {{\"name\": \"kube-proxy\", \"namespace\": \"kube-system\"}}, \"data\": {{\"config.conf\": {}}}}}\n",
                serde_json::to_string(&config).expect("a string serializes")
            ),
        }
    })
}

fn findings(text: &str) -> Vec<dplint_core::Finding> {
    check_inputs(
        &[Input {
            name: "in.yaml",
            bytes: text.as_bytes(),
        }],
        &CheckOptions::default(),
    )
    .findings
}

fn unreadable(text: &str) -> usize {
    let errors = read_source("in.yaml", text.as_bytes(), &Default::default())
        .errors
        .len();
    errors + findings(text).iter().filter(|f| f.code == "DP001").count()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_offered_fix_fits_its_file(text in kube_proxy_input()) {
        for finding in findings(&text) {
            let Some(fix) = &finding.fix else { continue };
            prop_assert!(!fix.edits.is_empty());
            for pair in fix.edits.windows(2) {
                prop_assert!(pair[0].end <= pair[1].start, "edits overlap: {:?}", fix.edits);
            }
            for edit in &fix.edits {
                prop_assert_eq!(&edit.file, "in.yaml");
                prop_assert!(edit.start <= edit.end && edit.end <= text.len());
                prop_assert!(text.is_char_boundary(edit.start) && text.is_char_boundary(edit.end));
            }
        }
    }

    #[test]
    fn fixing_never_leaves_a_file_that_reads_worse(text in kube_proxy_input(), unsafe_fixes in any::<bool>()) {
        let input = FixInput { name: "in.yaml".into(), text: text.clone(), role: SourceRole::Manifest, locked: None };
        let options = FixOptions { unsafe_fixes, ..FixOptions::default() };
        let outcome = fix_inputs(std::slice::from_ref(&input), &CheckOptions::default(), options, check);
        let fixed = outcome.files.first().map_or(text.clone(), |f| f.fixed.clone());
        prop_assert!(unreadable(&fixed) <= unreadable(&text), "fixed text reads worse:\n{fixed}");
        // A second run has nothing left to do.
        let again = FixInput { text: fixed.clone(), ..input };
        let second = fix_inputs(&[again], &CheckOptions::default(), options, check);
        prop_assert!(second.files.is_empty(), "second run changed:\n{fixed}");
    }

    #[test]
    fn random_fixes_never_apply_overlapping_or_out_of_range_edits(
        text in "[a-z: \\n#é]{0,40}",
        edits in prop::collection::vec((0usize..48, 0usize..8, "[a-z]{0,3}"), 1..12),
    ) {
        let fixes: Vec<Fix> = edits
            .iter()
            .map(|(start, len, content)| Fix {
                title: "t".into(),
                applicability: Applicability::Safe,
                edits: vec![edit(*start, start + len, content)],
            })
            .collect();
        let refs: Vec<&Fix> = fixes.iter().collect();
        let out = apply_fixes(&[("f", &text)], &refs, |_, _| Ok(()));
        prop_assert_eq!(out.applied.len() + out.skipped.len(), fixes.len());
        let taken: Vec<&Edit> = out.applied.iter().map(|&i| &fixes[i].edits[0]).collect();
        for (i, a) in taken.iter().enumerate() {
            prop_assert!(a.end <= text.len() && text.is_char_boundary(a.start) && text.is_char_boundary(a.end));
            for b in &taken[i + 1..] {
                prop_assert!(a.end <= b.start || b.end <= a.start, "{a:?} and {b:?} overlap");
                prop_assert!(a.start != b.start);
            }
        }
        for skipped in &out.skipped {
            let e = &fixes[skipped.index].edits[0];
            let fits = e.end <= text.len() && text.is_char_boundary(e.start) && text.is_char_boundary(e.end);
            prop_assert_eq!(matches!(skipped.reason, SkipReason::Stale(_)), !fits);
        }
        if out.applied.is_empty() {
            prop_assert!(out.texts.is_empty());
        }
    }
}

fn edit(start: usize, end: usize, content: &str) -> Edit {
    Edit {
        file: "f".into(),
        start,
        end,
        line: 1,
        column: 1,
        end_line: 1,
        end_column: 1,
        content: content.into(),
    }
}

#[test]
fn a_fix_that_would_break_the_file_leaves_it_untouched_and_says_why() {
    let text = "key: [a, b]\n";
    let breaking = Fix {
        title: "Break it".into(),
        applicability: Applicability::Safe,
        edits: vec![edit(10, 11, "")],
    };
    let reads = |_: &str, new: &str| match read_source("f", new.as_bytes(), &Default::default()).errors.first() {
        Some(error) => Err(error.message.clone()),
        None => Ok(()),
    };
    let out = apply_fixes(&[("f", text)], &[&breaking], reads);
    assert!(out.texts.is_empty(), "{:?}", out.texts);
    assert!(out.applied.is_empty());
    let [skipped] = out.skipped.as_slice() else {
        panic!("{:?}", out.skipped)
    };
    assert!(
        matches!(&skipped.reason, SkipReason::BreaksFile(why) if !why.is_empty()),
        "{skipped:?}"
    );
}
