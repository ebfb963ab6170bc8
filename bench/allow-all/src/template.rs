//! Distinct AdmissionReviews from one captured body, cheaply.
//!
//! kube-apiserver sends every update with its own `request.uid` and an object whose
//! `resourceVersion` (and usually some field) changed, so a webhook's decision cache sees each
//! object once. To send that at full speed the body is split once, around slots for the uid,
//! the object's resourceVersion and a `bench.dplint.io/seq` annotation; a request is then the
//! fixed parts and three numbers written into one buffer, not a JSON re-serialisation. The
//! rest of the captured bytes (key order, `oldObject`) is kept as is.

use std::collections::HashMap;
use std::fmt::Write as _;

use bytes::{BufMut, Bytes, BytesMut};

/// The annotation whose value changes with every request.
pub const SEQ_ANNOTATION: &str = "bench.dplint.io/seq";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Uid,
    ResourceVersion,
    Seq,
}

#[derive(Debug, PartialEq, Eq)]
enum Piece {
    Text(Vec<u8>),
    Slot(Slot),
}

/// A body with slots.
#[derive(Debug)]
pub struct Template {
    pieces: Vec<Piece>,
    fixed_len: usize,
    /// Differs between runs, so uids are unique across runs too.
    run: u32,
    /// The captured resourceVersion (when numeric); request `n` carries `base + 1 + n`.
    base_rv: u64,
}

impl Template {
    pub fn new(body: &[u8], run: u32) -> Result<Template, String> {
        let spans = Spans::of(body)?;
        let metadata = spans.object("/request/object/metadata")?;
        let uid = spans.string("/request/uid")?;
        let mut edits: Vec<(usize, usize, Vec<Piece>)> = vec![(uid.0, uid.1, vec![Piece::Slot(Slot::Uid)])];
        // Fields that are missing go first into `metadata`, with the comma that follows
        // them unless `metadata` was empty.
        let mut into_metadata: Vec<Vec<Piece>> = Vec::new();
        let mut base_rv = 0;
        match spans.string("/request/object/metadata/resourceVersion") {
            Ok((start, end)) => {
                base_rv = std::str::from_utf8(&body[start..end])
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                edits.push((start, end, vec![Piece::Slot(Slot::ResourceVersion)]));
            }
            Err(_) => into_metadata.push(vec![
                Piece::Text(b"\"resourceVersion\":\"".to_vec()),
                Piece::Slot(Slot::ResourceVersion),
                Piece::Text(b"\"".to_vec()),
            ]),
        }
        let seq_field = |close: &[u8]| {
            vec![
                Piece::Text(format!("\"{SEQ_ANNOTATION}\":\"").into_bytes()),
                Piece::Slot(Slot::Seq),
                Piece::Text(close.to_vec()),
            ]
        };
        match spans.object("/request/object/metadata/annotations") {
            Ok(annotations) => {
                let mut field = seq_field(b"\"");
                if !annotations.empty {
                    field.push(Piece::Text(b",".to_vec()));
                }
                edits.push((annotations.inside, annotations.inside, field));
            }
            Err(_) => {
                let mut field = vec![Piece::Text(b"\"annotations\":{".to_vec())];
                field.extend(seq_field(b"\"}"));
                into_metadata.push(field);
            }
        }
        if !into_metadata.is_empty() {
            let count = into_metadata.len();
            let mut pieces = Vec::new();
            for (i, field) in into_metadata.into_iter().enumerate() {
                pieces.extend(field);
                if i + 1 < count || !metadata.empty {
                    pieces.push(Piece::Text(b",".to_vec()));
                }
            }
            edits.push((metadata.inside, metadata.inside, pieces));
        }
        edits.sort_by_key(|e| (e.0, e.1));
        let mut pieces = Vec::new();
        let mut at = 0;
        for (start, end, replacement) in edits {
            if start < at {
                return Err("overlapping slots in the body".to_string());
            }
            push_text(&mut pieces, &body[at..start]);
            for piece in replacement {
                match piece {
                    Piece::Text(t) => push_text(&mut pieces, &t),
                    slot => pieces.push(slot),
                }
            }
            at = end;
        }
        push_text(&mut pieces, &body[at..]);
        let fixed_len = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.len(),
                Piece::Slot(_) => 0,
            })
            .sum();
        Ok(Template {
            pieces,
            fixed_len,
            run,
            base_rv,
        })
    }

    /// The uid of request `n` (unique within a run, and across runs by `run`).
    pub fn uid(&self, n: u64) -> String {
        format!("{:08x}-0000-4000-8000-{:012x}", self.run, n & 0xffff_ffff_ffff)
    }

    /// Request `n`: its body and its uid.
    pub fn render(&self, n: u64) -> (Bytes, String) {
        let uid = self.uid(n);
        let mut out = BytesMut::with_capacity(self.fixed_len + 96);
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.put_slice(t),
                Piece::Slot(Slot::Uid) => out.put_slice(uid.as_bytes()),
                // Writing a number into BytesMut cannot fail.
                Piece::Slot(Slot::ResourceVersion) => {
                    let _ = write!(out, "{}", self.base_rv + 1 + n);
                }
                Piece::Slot(Slot::Seq) => {
                    let _ = write!(out, "{n}");
                }
            }
        }
        (out.freeze(), uid)
    }
}

fn push_text(pieces: &mut Vec<Piece>, text: &[u8]) {
    if text.is_empty() {
        return;
    }
    if let Some(Piece::Text(last)) = pieces.last_mut() {
        last.extend_from_slice(text);
    } else {
        pieces.push(Piece::Text(text.to_vec()));
    }
}

/// Where an object's members start, and whether it has any.
struct ObjectSpan {
    /// Just after the `{`.
    inside: usize,
    empty: bool,
}

/// Byte spans of the values of a JSON text, by path (`/request/object/metadata`). Strings are
/// spanned without their quotes. Only what the template needs: a minimal scanner that keeps the
/// text's own bytes (serde_json's `Value` would reorder keys without `preserve_order`).
struct Spans<'a> {
    text: &'a [u8],
    at: usize,
    values: HashMap<String, (usize, usize, u8)>,
}

impl<'a> Spans<'a> {
    fn of(text: &'a [u8]) -> Result<Spans<'a>, String> {
        let mut spans = Spans {
            text,
            at: 0,
            values: HashMap::new(),
        };
        spans.value(String::new())?;
        spans.space();
        if spans.at != text.len() {
            return Err(format!("trailing bytes at {}", spans.at));
        }
        Ok(spans)
    }

    fn string(&self, path: &str) -> Result<(usize, usize), String> {
        match self.values.get(path) {
            Some(&(start, end, b'"')) => Ok((start + 1, end - 1)),
            Some(_) => Err(format!("{path} is not a string")),
            None => Err(format!("no {path} in the body")),
        }
    }

    fn object(&self, path: &str) -> Result<ObjectSpan, String> {
        match self.values.get(path) {
            Some(&(start, end, b'{')) => {
                let inner = &self.text[start + 1..end - 1];
                Ok(ObjectSpan {
                    inside: start + 1,
                    empty: inner.iter().all(u8::is_ascii_whitespace),
                })
            }
            Some(_) => Err(format!("{path} is not an object")),
            None => Err(format!("no {path} in the body")),
        }
    }

    fn space(&mut self) {
        while self.text.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        self.space();
        if self.text.get(self.at) == Some(&byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at {}", byte as char, self.at))
        }
    }

    /// Skips a string; returns its raw contents (escapes left as they are).
    fn raw_string(&mut self) -> Result<&'a [u8], String> {
        self.expect(b'"')?;
        let start = self.at;
        loop {
            match self.text.get(self.at) {
                Some(b'\\') => self.at += 2,
                Some(b'"') => break,
                Some(_) => self.at += 1,
                None => return Err("unterminated string".to_string()),
            }
        }
        self.at += 1;
        Ok(&self.text[start..self.at - 1])
    }

    fn value(&mut self, path: String) -> Result<(), String> {
        self.space();
        let start = self.at;
        let first = *self.text.get(start).ok_or("unexpected end")?;
        match first {
            b'{' | b'[' => {
                let close = if first == b'{' { b'}' } else { b']' };
                self.at += 1;
                self.space();
                if self.text.get(self.at) == Some(&close) {
                    self.at += 1;
                } else {
                    let mut index = 0;
                    loop {
                        let child = if first == b'{' {
                            let key = String::from_utf8_lossy(self.raw_string()?).into_owned();
                            self.expect(b':')?;
                            format!("{path}/{key}")
                        } else {
                            index += 1;
                            format!("{path}/{}", index - 1)
                        };
                        self.value(child)?;
                        self.space();
                        match self.text.get(self.at) {
                            Some(b',') => self.at += 1,
                            Some(&b) if b == close => {
                                self.at += 1;
                                break;
                            }
                            _ => return Err(format!("expected ',' or {:?} at {}", close as char, self.at)),
                        }
                    }
                }
            }
            b'"' => {
                self.raw_string()?;
            }
            _ => {
                while self
                    .text
                    .get(self.at)
                    .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
                {
                    self.at += 1;
                }
                if self.at == start {
                    return Err(format!("unexpected {:?} at {start}", first as char));
                }
            }
        }
        self.values.insert(path, (start, self.at, first));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn parse(b: &Bytes) -> Value {
        serde_json::from_slice(b).expect("valid JSON")
    }

    #[test]
    fn rewrites_uid_resource_version_and_annotation_only() {
        let body = br#"{"kind":"AdmissionReview","request":{"uid":"abc","object":{"metadata":{"name":"kube-proxy","resourceVersion":"41","annotations":{"a":"b"}},"data":{"x":"{\"uid\":\"q\"}"}},"oldObject":{"metadata":{"resourceVersion":"40"}}}}"#;
        let template = Template::new(body, 7).expect("template");
        let (one, uid) = template.render(3);
        let v = parse(&one);
        assert_eq!(v["request"]["uid"], json!(uid));
        assert_eq!(uid, "00000007-0000-4000-8000-000000000003");
        assert_eq!(v["request"]["object"]["metadata"]["resourceVersion"], json!("45"));
        assert_eq!(
            v["request"]["object"]["metadata"]["annotations"],
            json!({"a": "b", SEQ_ANNOTATION: "3"})
        );
        assert_eq!(
            v["request"]["oldObject"],
            json!({"metadata": {"resourceVersion": "40"}})
        );
        assert_eq!(v["request"]["object"]["data"]["x"], json!("{\"uid\":\"q\"}"));
        // Key order is kept: the original text with the three edits.
        assert!(
            std::str::from_utf8(&one)
                .unwrap()
                .starts_with(r#"{"kind":"AdmissionReview","request":{"uid":"0000"#)
        );
        let (two, _) = template.render(4);
        assert_ne!(one, two);
    }

    #[test]
    fn adds_what_the_object_lacks() {
        for metadata in [r#"{}"#, r#"{"name":"x"}"#, r#"{ "name" : "x" , "annotations" : { } }"#] {
            let body = format!(r#"{{"request":{{"uid":"u","object":{{"metadata":{metadata}}}}}}}"#);
            let template = Template::new(body.as_bytes(), 1).expect("template");
            let v = parse(&template.render(9).0);
            let m = &v["request"]["object"]["metadata"];
            assert_eq!(m["resourceVersion"], json!("10"), "{metadata}");
            assert_eq!(m["annotations"][SEQ_ANNOTATION], json!("9"), "{metadata}");
        }
    }

    #[test]
    fn refuses_a_body_that_is_not_a_review() {
        assert!(Template::new(br#"{"request":{"object":{"metadata":{}}}}"#, 1).is_err());
        assert!(Template::new(br#"{"request":{"uid":"u","object":{"metadata":{}}}"#, 1).is_err());
        assert!(Template::new(b"[1,2", 1).is_err());
    }
}
