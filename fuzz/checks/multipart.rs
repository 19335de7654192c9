//! The `multipart/form-data` reader (`unicas::http::multipart::parse`, the roster upload).
//!
//! Input, read two ways. First as a request: the first line is the `Content-Type` value and
//! the rest the body (no newline: the whole input is the body of
//! `multipart/form-data; boundary=XyZ`). Whatever it is, the reader never panics; each part
//! it returns is a slice of the body, in order, ended by the first delimiter after it; and
//! the parts, written out again the way a browser writes a form (RFC 7578), read back the
//! same. Second as fields `name=value` joined by `&` (`name:filename=value` for a file),
//! which a browser-style encoder writes into a body that must read back as those fields.

use unicas::http::multipart::{parse, Part};

const DEFAULT_CONTENT_TYPE: &str = "multipart/form-data; boundary=XyZ";

pub fn check(data: &[u8]) {
    let (content_type, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (
            String::from_utf8_lossy(&data[..i]).into_owned(),
            &data[i + 1..],
        ),
        None => (DEFAULT_CONTENT_TYPE.to_string(), data),
    };
    if let Some(parts) = parse(&content_type, body) {
        parts_are_the_bodys_own(&content_type, body, &parts);
        let fields: Vec<Field> = parts
            .iter()
            .map(|p| Field {
                name: p.name.clone(),
                filename: p.filename.clone(),
                data: p.data.to_vec(),
            })
            .filter(Field::encodable)
            .collect();
        reads_back(&fields);
    }
    reads_back(&fields_of(data));
}

/// A form field as a browser holds it before encoding.
#[derive(Debug, PartialEq, Eq)]
struct Field {
    name: String,
    filename: Option<String>,
    data: Vec<u8>,
}

impl Field {
    /// Names a browser writes as they are: the reader takes a quoted parameter up to the
    /// next `;` and does not undo the `%22`/`%0D%0A` escapes browsers use for `"` and line
    /// breaks. The console's own fields (`csrf`, `roster`, `action`, …) are plain words.
    fn encodable(&self) -> bool {
        let plain = |s: &str| !s.contains(['"', ';', '\r', '\n']);
        plain(&self.name) && self.filename.as_deref().is_none_or(plain)
    }
}

/// Each part is a slice of `body`, after the previous one, and ends at the first delimiter.
fn parts_are_the_bodys_own(content_type: &str, body: &[u8], parts: &[Part]) {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .expect("a body was read, so there is a boundary")
        .trim_matches('"');
    let delimiter = format!("\r\n--{boundary}").into_bytes();
    let start = body.as_ptr() as usize;
    let mut done = 0;
    for part in parts {
        let at = (part.data.as_ptr() as usize).wrapping_sub(start);
        assert!(
            at >= done && at + part.data.len() <= body.len(),
            "part {:?} is not a slice of the body after the previous part",
            part.name
        );
        let end = at + part.data.len();
        assert!(
            body[end..].starts_with(&delimiter),
            "part {:?} does not end at a delimiter",
            part.name
        );
        assert!(
            find(part.data, &delimiter).is_none(),
            "part {:?} runs over a delimiter",
            part.name
        );
        done = end;
    }
}

/// Written the way a browser writes a form, the fields read back as they were.
fn reads_back(fields: &[Field]) {
    let (content_type, body) = encode(fields);
    let parts = parse(&content_type, &body).expect("a browser-style body reads");
    let back: Vec<Field> = parts
        .into_iter()
        .map(|p| Field {
            name: p.name,
            filename: p.filename,
            data: p.data.to_vec(),
        })
        .collect();
    assert_eq!(back, fields, "{}", String::from_utf8_lossy(&body));
}

/// RFC 7578 as browsers send it: a boundary found in no field, a `Content-Disposition` per
/// part, a `Content-Type` for files, CRLF line ends, the closing delimiter.
fn encode(fields: &[Field]) -> (String, Vec<u8>) {
    let mut boundary = String::from("----UnicasFuzzBoundary");
    let mut n = 0u32;
    while fields.iter().any(|f| {
        let b = format!("--{boundary}");
        find(&f.data, b.as_bytes()).is_some()
            || f.name.contains(&b)
            || f.filename.as_deref().is_some_and(|x| x.contains(&b))
    }) {
        n += 1;
        boundary = format!("----UnicasFuzzBoundary{n:08x}");
    }
    let mut body = Vec::new();
    for f in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition = match &f.filename {
            Some(file) => format!(
                "Content-Disposition: form-data; name=\"{}\"; filename=\"{file}\"\r\n\
                 Content-Type: application/octet-stream\r\n",
                f.name
            ),
            None => format!("Content-Disposition: form-data; name=\"{}\"\r\n", f.name),
        };
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&f.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The input as fields: `name=value` joined by `&`, `name:filename=value` for a file; what
/// a browser could not write as it is left out of names (see `Field::encodable`).
fn fields_of(data: &[u8]) -> Vec<Field> {
    let plain = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .chars()
            .filter(|c| !matches!(c, '"' | ';' | '\r' | '\n'))
            .collect::<String>()
    };
    data.split(|&b| b == b'&')
        .take(64)
        .map(|field| {
            let (head, value) = match field.iter().position(|&b| b == b'=') {
                Some(i) => (&field[..i], &field[i + 1..]),
                None => (field, &[][..]),
            };
            let (name, filename) = match head.iter().position(|&b| b == b':') {
                Some(i) => (&head[..i], Some(plain(&head[i + 1..]))),
                None => (head, None),
            };
            Field {
                name: plain(name),
                filename,
                data: value.to_vec(),
            }
        })
        .collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
