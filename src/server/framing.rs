//! JSON-RPC framing that survives bad input.
//!
//! tower-lsp's own codec ends the session on the first bad frame. Ours turns
//! every problem into a [`Frame::Malformed`] the caller answers with a JSON-RPC
//! error, then finds the next `Content-Length` header and goes on: a bad or
//! missing length, a body that is not UTF-8 or not JSON, garbage between
//! messages. JSON that escapes half of a UTF-16 surrogate pair (`"\ud800"`),
//! which serde_json refuses, is read with U+FFFD in its place, as editors do
//! with such text, so no edit is lost.

use std::borrow::Cow;

use serde_json::Value;

/// Bodies above this are refused (and skipped) rather than buffered.
pub const MAX_BODY: usize = 512 << 20;
/// A header block longer than this is garbage.
const MAX_HEADER: usize = 8 << 10;
const CONTENT_LENGTH: &[u8] = b"content-length:";

#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Body(Vec<u8>),
    /// A framing problem, described for the client; the decoder has already
    /// moved past it.
    Malformed(String),
}

/// Splits a byte stream into frames. Feed it with [`push`](Self::push), then
/// call [`next_frame`](Self::next_frame) until it returns `None`.
#[derive(Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    pos: usize,
    /// For the frame whose body is still arriving: how much of the body has
    /// been searched for a following header, so that searching stays linear.
    body_scanned: usize,
}

impl FrameDecoder {
    pub fn push(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes received but not yet part of a returned frame.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn next_frame(&mut self) -> Option<Frame> {
        loop {
            let data = &self.buf[self.pos..];
            if data.is_empty() {
                return None;
            }
            match header_name_state(data) {
                HeaderStart::Yes => {}
                HeaderStart::NeedMore => return None,
                HeaderStart::No => {
                    // Garbage before a header (such as the rest of a body
                    // whose Content-Length was too short): skip to the next
                    // `Content-Length:`, keeping a tail that may be its start.
                    match memchr::memmem::find_iter(data, b"Content-Length:")
                        .next()
                        .or_else(|| {
                            let lower = data.to_ascii_lowercase();
                            memchr::memmem::find(&lower, CONTENT_LENGTH)
                        }) {
                        Some(i) => {
                            tracing::warn!("skipped {i} bytes of garbage between messages");
                            self.pos += i;
                            continue;
                        }
                        None => {
                            let keep = CONTENT_LENGTH.len() - 1;
                            if data.len() > keep {
                                tracing::warn!("skipped garbage between messages");
                                self.pos += data.len() - keep;
                            }
                            return None;
                        }
                    }
                }
            }
            let Some((header_len, content_length)) = parse_headers(data) else {
                if data.len() > MAX_HEADER {
                    self.pos += 1;
                    return Some(Frame::Malformed(
                        "message header too long or not terminated".into(),
                    ));
                }
                return None;
            };
            let length = match content_length {
                Ok(n) if n <= MAX_BODY => n,
                Ok(n) => {
                    self.pos += header_len;
                    return Some(Frame::Malformed(format!(
                        "Content-Length {n} exceeds the limit of {MAX_BODY} bytes; message skipped"
                    )));
                }
                Err(why) => {
                    self.pos += header_len;
                    return Some(Frame::Malformed(why));
                }
            };
            let body = &data[header_len..];
            let available = body.len().min(length);
            // A complete JSON value followed by a header means the length was
            // too long and the next message has begun: cut this one short.
            // (The same text inside a JSON string does not end a value.)
            let from = self.body_scanned.saturating_sub(CONTENT_LENGTH.len());
            if let Some(at) = following_header(&body[..available], from) {
                self.pos += header_len + at;
                self.body_scanned = 0;
                return Some(Frame::Malformed(format!(
                    "Content-Length {length} is longer than the message; it ended where the next \
                     header began"
                )));
            }
            if body.len() < length {
                self.body_scanned = available;
                return None;
            }
            let frame = body[..length].to_vec();
            self.pos += header_len + length;
            self.body_scanned = 0;
            return Some(Frame::Body(frame));
        }
    }
}

enum HeaderStart {
    Yes,
    No,
    NeedMore,
}

/// Whether `data` begins with a header line (`Name: value`).
fn header_name_state(data: &[u8]) -> HeaderStart {
    for (i, &b) in data.iter().enumerate() {
        match b {
            b':' if i > 0 => return HeaderStart::Yes,
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' => {}
            _ => return HeaderStart::No,
        }
    }
    HeaderStart::NeedMore
}

/// The offset, at or after `from`, of a `Content-Length:` header (any case)
/// that follows a complete JSON value at the start of `body`.
fn following_header(body: &[u8], from: usize) -> Option<usize> {
    // Found by its `:` (no lowercase copy of a body that may be megabytes).
    let name = &CONTENT_LENGTH[..CONTENT_LENGTH.len() - 1];
    memchr::memchr_iter(b':', body.get(from + name.len()..)?)
        .map(|i| from + i)
        .filter(|&at| body[at..at + name.len()].eq_ignore_ascii_case(name))
        .find(|&at| serde_json::from_slice::<serde::de::IgnoredAny>(&body[..at]).is_ok())
}

/// Parses a complete header block: its length including the blank line,
/// and the Content-Length (or why there is none). `None` while incomplete.
fn parse_headers(data: &[u8]) -> Option<(usize, Result<usize, String>)> {
    let mut line_start = 0;
    let mut length: Option<Result<usize, String>> = None;
    loop {
        let nl = memchr::memchr(b'\n', &data[line_start..])? + line_start;
        let line = &data[line_start..nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        line_start = nl + 1;
        if line.is_empty() {
            let length =
                length.unwrap_or_else(|| Err("message header has no Content-Length".into()));
            return Some((line_start, length));
        }
        if line.len() > CONTENT_LENGTH.len() - 1
            && line[..CONTENT_LENGTH.len()].eq_ignore_ascii_case(CONTENT_LENGTH)
        {
            let value = String::from_utf8_lossy(&line[CONTENT_LENGTH.len()..]);
            length = Some(value.trim().parse::<usize>().map_err(|_| {
                format!(
                    "invalid Content-Length {:?}: expected a number of bytes",
                    value.trim()
                )
            }));
        }
    }
}

/// A body that could not be read as a JSON-RPC message.
#[derive(Debug, PartialEq)]
pub struct BodyError {
    /// -32700 (parse error) or -32600 (invalid request).
    pub code: i64,
    pub message: String,
    /// The message's id, when it could still be made out.
    pub id: Value,
}

/// Decodes a frame's body as JSON, mending lone surrogate escapes.
pub fn decode_body(body: &[u8]) -> Result<(Value, Cow<'_, str>), BodyError> {
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) => {
            return Err(BodyError {
                code: -32700,
                message: format!(
                    "parse error: message body is not valid UTF-8 (bad byte at offset {})",
                    e.valid_up_to()
                ),
                id: recover_id(&String::from_utf8_lossy(body)),
            })
        }
    };
    match serde_json::from_str::<Value>(text) {
        Ok(value) => Ok((value, Cow::Borrowed(text))),
        Err(error) => {
            if let Some(mended) = replace_lone_surrogates(text) {
                if let Ok(value) = serde_json::from_str::<Value>(&mended) {
                    tracing::warn!("message had lone UTF-16 surrogates; read them as U+FFFD");
                    return Ok((value, Cow::Owned(mended)));
                }
            }
            Err(BodyError {
                code: -32700,
                message: format!("parse error: message body is not valid JSON: {error}"),
                id: recover_id(text),
            })
        }
    }
}

/// Rewrites `\uXXXX` escapes of unpaired surrogates as `\ufffd`; `None` when
/// there are none.
pub fn replace_lone_surrogates(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let escape_at = |i: usize| -> Option<u32> {
        let hex = bytes.get(i..i + 6)?;
        if hex[0] != b'\\' || hex[1] != b'u' {
            return None;
        }
        u32::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => in_string = !in_string,
            b'\\' if in_string => {
                let Some(unit) = escape_at(i) else {
                    i += 2; // any other escape: skip the escaped character
                    continue;
                };
                let paired = (0xD800..0xDC00).contains(&unit)
                    && escape_at(i + 6).is_some_and(|u| (0xDC00..0xE000).contains(&u));
                if paired {
                    i += 12;
                    continue;
                }
                if (0xD800..0xE000).contains(&unit) {
                    let s = out.get_or_insert_with(|| String::with_capacity(text.len()));
                    s.push_str(&text[copied..i]);
                    s.push_str("\\ufffd");
                    copied = i + 6;
                }
                i += 6;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.map(|mut s| {
        s.push_str(&text[copied..]);
        s
    })
}

/// Best-effort id of a message that is not valid JSON: the value after the
/// first `"id":`, if it is a number or a simple string.
fn recover_id(text: &str) -> Value {
    let Some(at) = text.find("\"id\"") else {
        return Value::Null;
    };
    let rest = text[at + 4..].trim_start();
    let Some(rest) = rest.strip_prefix(':') else {
        return Value::Null;
    };
    let rest = rest.trim_start();
    if let Some(s) = rest.strip_prefix('"') {
        return match s.find(['"', '\\']) {
            Some(end) if s.as_bytes()[end] == b'"' => Value::String(s[..end].to_string()),
            _ => Value::Null,
        };
    }
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse::<i64>().map_or(Value::Null, Value::from)
}

/// Frames a JSON body for the wire.
pub fn encode(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<Frame> {
        let mut d = FrameDecoder::default();
        d.push(input);
        std::iter::from_fn(|| d.next_frame()).collect()
    }

    fn body(s: &str) -> Frame {
        Frame::Body(s.as_bytes().to_vec())
    }

    #[test]
    fn well_formed_frames_in_pieces() {
        let input = b"Content-Length: 2\r\n\r\n{}Content-Type: x\r\nContent-Length: 4\r\n\r\nnull";
        assert_eq!(frames(input), vec![body("{}"), body("null")]);
        // Byte by byte gives the same frames.
        let mut d = FrameDecoder::default();
        let mut got = Vec::new();
        for b in input {
            d.push(&[*b]);
            got.extend(std::iter::from_fn(|| d.next_frame()));
        }
        assert_eq!(got, vec![body("{}"), body("null")]);
    }

    #[test]
    fn missing_and_invalid_length_resynchronise() {
        let got = frames(b"Content-Type: a\r\n\r\n{\"x\":1}Content-Length: 2\r\n\r\n{}");
        assert!(matches!(&got[0], Frame::Malformed(m) if m.contains("no Content-Length")));
        assert_eq!(got[1], body("{}"));
        let got = frames(b"Content-Length: abc\r\n\r\n{}Content-Length: 2\r\n\r\n[]");
        assert!(matches!(&got[0], Frame::Malformed(m) if m.contains("invalid Content-Length")));
        assert_eq!(got[1], body("[]"));
    }

    #[test]
    fn too_long_length_ends_at_the_next_header() {
        let got = frames(b"Content-Length: 900\r\n\r\n{\"a\":1}\r\nContent-Length: 2\r\n\r\n{}");
        assert!(matches!(&got[0], Frame::Malformed(m) if m.contains("longer than the message")));
        assert_eq!(got[1], body("{}"));
        // Also when the body never completes: the decoder does not wait for it.
        let mut d = FrameDecoder::default();
        d.push(b"Content-Length: 900\r\n\r\n{\"a\":1}");
        assert_eq!(d.next_frame(), None);
        d.push(b"Content-Length: 2\r\n\r\n{}");
        assert!(matches!(d.next_frame(), Some(Frame::Malformed(_))));
        assert_eq!(d.next_frame(), Some(body("{}")));
        // The next header in any case; the same words inside a string, or
        // after text that is not yet a whole value, do not end the body.
        let got = frames(b"Content-Length: 900\r\n\r\n{\"a\":1}cONTENT-lENGTH: 2\r\n\r\n{}");
        assert!(matches!(&got[0], Frame::Malformed(_)));
        assert_eq!(got[1], body("{}"));
        let text = "{\"t\":\"Content-Length: 5\", \"u\": [Content-Length: 1]}";
        let framed = format!("Content-Length: {}\r\n\r\n{text}", text.len());
        assert_eq!(frames(framed.as_bytes()), vec![body(text)]);
    }

    #[test]
    fn too_short_length_skips_the_rest() {
        let got = frames(b"Content-Length: 3\r\n\r\n{\"a\":1}Content-Length: 2\r\n\r\n{}");
        assert_eq!(got, vec![body("{\"a"), body("{}")]);
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let text = r#"{"a":"x\ud800y","b":"\udc00","c":"\ud83e\udd80","d":"\\ud800"}"#;
        let mended = replace_lone_surrogates(text).unwrap();
        assert_eq!(
            mended,
            r#"{"a":"x\ufffdy","b":"\ufffd","c":"\ud83e\udd80","d":"\\ud800"}"#
        );
        let (value, _) = decode_body(text.as_bytes()).unwrap();
        assert_eq!(value["a"], "x\u{FFFD}y");
        assert_eq!(value["c"], "🦀");
        assert_eq!(replace_lone_surrogates(r#"{"ok":"\u00e9"}"#), None);
    }

    #[test]
    fn undecodable_bodies_keep_their_id() {
        let err = decode_body(b"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"x\",").unwrap_err();
        assert_eq!((err.code, err.id), (-32700, Value::from(7)));
        let err = decode_body(b"{\"id\":\"abc\",\"x\":\"\xff\"}").unwrap_err();
        assert_eq!(err.id, Value::from("abc"));
        assert!(err.message.contains("UTF-8"));
        assert_eq!(decode_body(b"not json").unwrap_err().id, Value::Null);
    }
}
