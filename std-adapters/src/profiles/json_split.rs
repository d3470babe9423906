//! A window over a stream of JSON text, cut into whole values.
//!
//! serde_json parses a slice several times faster than a reader: from a
//! reader it takes the text a byte at a time, tracking lines and columns and
//! copying every string into a scratch buffer. A trace is too large to hold
//! whole, but it is one big array of small events. So the text is read into
//! a window of bounded size, a small scanner finds where each value ends
//! (it follows strings, their escapes and the nesting of brackets, nothing
//! more), and each value is handed to serde_json as a slice, whose strings
//! are then borrowed, not copied. The window keeps only the value being cut
//! and the block read after it: memory follows the largest single value, not
//! the file.
//!
//! The scanner does not check the JSON: serde_json does, on each value it is
//! given. Where the text is malformed the scanner may cut a value at the
//! wrong place, but serde_json then reports the first fault inside the
//! slice, the same fault and position a parse of the whole text would. Only
//! the punctuation between values (commas, colons, the brackets of the
//! arrays and objects being walked) is checked here, with serde_json's words.
//!
//! Positions: the window counts the lines of the text it drops, so an error
//! found in a slice is given at its line and column in the whole text, as
//! serde_json would give it.

use std::io::{self, Read};

/// Bytes read from the source at a time.
const BLOCK: usize = 1 << 18;

/// A line and column in the whole text, in serde_json's convention: lines
/// from 1; the column is the count of bytes of that line before the
/// position (so the column of a byte, counted from 1, is the position just
/// after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    pub line: usize,
    pub column: usize,
}

/// How a value the scanner was asked to cut ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// The value is the `len` bytes from the window's start.
    Whole(usize),
    /// The text ended inside the value, which is all that is left in the
    /// window.
    Truncated(usize),
}

impl Cut {
    /// The bytes of the window the value takes.
    pub(crate) fn len(self) -> usize {
        match self {
            Cut::Whole(n) | Cut::Truncated(n) => n,
        }
    }

    /// Whether the value ended before the text did.
    pub(crate) fn is_whole(self) -> bool {
        matches!(self, Cut::Whole(_))
    }
}

/// Where the scanner is inside a value, so that it resumes where it stopped
/// when more text arrives instead of scanning the value again.
#[derive(Debug, Clone, Copy, Default)]
struct ScanState {
    /// Open brackets.
    depth: usize,
    in_string: bool,
    /// The last byte seen was a backslash inside a string.
    escaped: bool,
}

/// Finds the end of the value in `text`, continuing from `state`: `Some`
/// index just past it, or `None` when `text` ends first (with `state` ready
/// for the text that follows).
fn scan(text: &[u8], state: &mut ScanState) -> Option<usize> {
    let mut i = 0;
    if state.escaped {
        if text.is_empty() {
            return None;
        }
        i = 1;
        state.escaped = false;
    }
    loop {
        if state.in_string {
            i += memchr::memchr2(b'"', b'\\', text.get(i..)?)?;
            if text.get(i) == Some(&b'"') {
                i += 1;
                state.in_string = false;
                if state.depth == 0 {
                    return Some(i);
                }
            } else {
                // A backslash: the next byte is escaped, whatever it is.
                i += 2;
                if i > text.len() {
                    state.escaped = true;
                    return None;
                }
            }
        } else {
            let b = *text.get(i)?;
            i += 1;
            match b {
                b'"' => state.in_string = true,
                b'{' | b'[' => state.depth += 1,
                b'}' | b']' => {
                    // A close without its open is malformed; serde_json
                    // reports it when it parses the value.
                    state.depth = state.depth.saturating_sub(1);
                    if state.depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
    }
}

/// Newlines in `text` (every byte of a trace passes through here once).
fn count_newlines(text: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', text).count()
}

/// Whether `b` can continue a value that is not a string, array or object
/// (a number, `true`, `false` or `null`). Anything else ends it, so that
/// `12"a"` is cut after `12` and the `"` is reported where a comma was
/// expected, as serde_json reports it.
fn continues_scalar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

/// The length of the number or literal at the start of `text`, which
/// serde_json has just read there (so it is a valid one): where serde_json
/// stopped reading it.
pub(crate) fn scalar_len(text: &[u8]) -> usize {
    let digits = |from: usize| {
        from + text
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    match text.first() {
        Some(b't' | b'n') => 4,
        Some(b'f') => 5,
        _ => {
            let mut i = digits(usize::from(text.first() == Some(&b'-')));
            if text.get(i) == Some(&b'.') {
                i = digits(i + 1);
            }
            if matches!(text.get(i), Some(b'e' | b'E')) {
                i += 1;
                if matches!(text.get(i), Some(b'+' | b'-')) {
                    i += 1;
                }
                i = digits(i);
            }
            i
        }
    }
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// A window over the text a reader gives.
#[derive(Debug)]
pub(crate) struct Window<R> {
    reader: R,
    /// The window; `buf[start..end]` is the text not yet consumed.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// Newlines before `buf[0]` in the whole text.
    lines_before: usize,
    /// Bytes between the last newline before `buf[0]` and `buf[0]`.
    column_before: usize,
}

impl<R: Read> Window<R> {
    pub(crate) fn new(reader: R) -> Self {
        Window {
            reader,
            buf: Vec::new(),
            start: 0,
            end: 0,
            eof: false,
            lines_before: 0,
            column_before: 0,
        }
    }

    /// The text not yet consumed that is in the window.
    pub(crate) fn rest(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Reads more text after what the window holds, first dropping what was
    /// consumed; `false` at the end of the text.
    fn more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            let dropped = self.buf.get(..self.start).unwrap_or_default();
            match memchr::memrchr(b'\n', dropped) {
                Some(last) => {
                    self.lines_before += count_newlines(dropped);
                    self.column_before = dropped.len() - last - 1;
                }
                None => self.column_before += dropped.len(),
            }
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            // The first read, or a value longer than the window: grow it
            // (by doubling, so a long value is read in linear time).
            let mut bigger = vec![0; BLOCK.max(2 * self.buf.len())];
            if let (Some(to), Some(from)) = (bigger.get_mut(..self.end), self.buf.get(..self.end)) {
                to.copy_from_slice(from);
            }
            self.buf = bigger;
        }
        loop {
            let free = self.buf.get_mut(self.end..).unwrap_or_default();
            match self.reader.read(free) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether the whole text has been read into the window.
    pub(crate) fn at_end(&self) -> bool {
        self.eof
    }

    /// Drops the next `n` bytes (at most what the window holds).
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Skips whitespace; the next byte, `None` at the end of the text.
    pub(crate) fn peek(&mut self) -> io::Result<Option<u8>> {
        loop {
            let rest = self.rest();
            match rest.iter().position(|&b| !is_whitespace(b)) {
                Some(i) => {
                    let b = rest.get(i).copied();
                    self.start += i;
                    return Ok(b);
                }
                None => {
                    self.start = self.end;
                    if !self.more()? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Cuts the value that starts at the window's first byte (not
    /// whitespace), reading as much as it needs. The value stays in the
    /// window ([`Window::rest`]) until consumed.
    pub(crate) fn cut(&mut self) -> io::Result<Cut> {
        let Some(&first) = self.rest().first() else {
            return Ok(Cut::Truncated(0));
        };
        let mut state = ScanState::default();
        let mut scalar = false;
        match first {
            b'{' | b'[' => state.depth = 1,
            b'"' => state.in_string = true,
            _ => scalar = true,
        }
        // Bytes of the value scanned so far.
        let mut done = 1;
        loop {
            let text = self.rest().get(done..).unwrap_or_default();
            let end = if scalar {
                text.iter().position(|&b| !continues_scalar(b))
            } else {
                scan(text, &mut state)
            };
            if let Some(end) = end {
                return Ok(Cut::Whole(done + end));
            }
            done += text.len();
            if !self.more()? {
                // A number or literal may end with the text; anything else
                // is cut short.
                return Ok(if scalar {
                    Cut::Whole(done)
                } else {
                    Cut::Truncated(done)
                });
            }
        }
    }

    /// The position in the whole text of the window's byte `offset` bytes
    /// past its start (of the end of the window, when past it).
    pub(crate) fn position(&self, offset: usize) -> Position {
        let before = self
            .buf
            .get(..(self.start + offset).min(self.end))
            .unwrap_or_default();
        match memchr::memrchr(b'\n', before) {
            Some(last) => Position {
                line: self.lines_before + 1 + count_newlines(before),
                column: before.len() - last - 1,
            },
            None => Position {
                line: self.lines_before + 1,
                column: self.column_before + before.len(),
            },
        }
    }

    /// Where a serde_json error, found in a slice that starts `offset`
    /// bytes past the window's start, is in the whole text. serde_json gives
    /// errors not about a position (line 0) no position; so does this.
    ///
    /// Where serde_json's slice parser places a fault one character before
    /// its reader (which the reader used to be, and whose places the
    /// reader keeps), the place is moved after that character: a control
    /// character in a string it skips (the slice parser stops at it, the
    /// reader has consumed it), a number of the wrong type (the reader has
    /// consumed the byte after the number, to see where it ended), and a
    /// map or sequence of the wrong type (the reader had read one byte
    /// further).
    pub(crate) fn locate(&self, offset: usize, e: &serde_json::Error) -> Position {
        if e.line() == 0 {
            return Position { line: 0, column: 0 };
        }
        let text = self
            .buf
            .get(self.start + offset..self.end)
            .unwrap_or_default();
        // The byte serde_json's position is before, in `text`.
        let line_start = match e.line() {
            1 => Some(0),
            n => memchr::memchr_iter(b'\n', text).nth(n - 2).map(|i| i + 1),
        };
        let index = line_start.map(|s| s + e.column());
        let byte = |i: Option<usize>| i.and_then(|i| text.get(i)).copied();
        let message = e.to_string();
        let skipped_control = message.starts_with("control character")
            && byte(index).is_some_and(|b| b < 0x20)
            && byte(index.and_then(|i| i.checked_sub(1))).is_none_or(|b| b >= 0x20);
        let number = ["invalid type: ", "invalid value: "].iter().any(|p| {
            message
                .strip_prefix(p)
                .is_some_and(|m| m.starts_with("integer") || m.starts_with("floating point"))
        });
        // A map or sequence of the wrong type: the reader had also read
        // the byte serde_json looked at next (the bracket, when refused
        // before stepping in; the one after it, when refused inside).
        let bracket = ["invalid type: map", "invalid type: sequence"]
            .iter()
            .any(|m| message.starts_with(m));
        let past = match byte(index) {
            Some(b) if skipped_control || number || bracket => Some(b),
            _ => None,
        };
        let mut at = if e.line() == 1 {
            let at = self.position(offset);
            Position {
                line: at.line,
                column: at.column + e.column(),
            }
        } else {
            Position {
                line: self.position(offset).line + e.line() - 1,
                column: e.column(),
            }
        };
        match past {
            Some(b'\n') => {
                at.line += 1;
                at.column = 0;
            }
            Some(_) => at.column += 1,
            None => {}
        }
        at
    }

    /// The position serde_json gives a fault at the next byte (after it;
    /// at the end of the text when there is none).
    pub(crate) fn at_next(&self) -> Position {
        self.position(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives its text `step` bytes at a time, so values are
    /// split across reads at chosen places.
    struct Trickle<'a> {
        text: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(self.text.len()).min(out.len());
            let (head, tail) = self.text.split_at(n);
            out[..n].copy_from_slice(head);
            self.text = tail;
            Ok(n)
        }
    }

    /// A reader that gives its text in two reads, split at `at`.
    struct Split<'a> {
        parts: [&'a [u8]; 2],
    }

    impl Read for Split<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let part = if self.parts[0].is_empty() {
                &mut self.parts[1]
            } else {
                &mut self.parts[0]
            };
            let n = part.len().min(out.len());
            out[..n].copy_from_slice(&part[..n]);
            *part = &part[n..];
            Ok(n)
        }
    }

    /// The values of a comma-separated list, cut by the window: what each
    /// cut holds, and whether it was whole.
    fn cuts<R: Read>(reader: R) -> Vec<(String, bool)> {
        let mut w = Window::new(reader);
        let mut out = Vec::new();
        while let Some(b) = w.peek().unwrap() {
            if b == b',' {
                w.consume(1);
                continue;
            }
            let cut = w.cut().unwrap();
            let text = String::from_utf8(w.rest()[..cut.len()].to_vec()).unwrap();
            out.push((text, matches!(cut, Cut::Whole(_))));
            w.consume(cut.len());
        }
        out
    }

    const TRICKY: &str = r#"{"name": "a } ] { [ b", "q": "say \"}\" \\", "n": [[1, [2]], {"x": "]"}]}, "\\\"", [ ], -1.5e3 ,true,{"k":"\\"},"{\"x\": [\"]\"]}""#;

    fn tricky_values() -> Vec<(String, bool)> {
        [
            r#"{"name": "a } ] { [ b", "q": "say \"}\" \\", "n": [[1, [2]], {"x": "]"}]}"#,
            r#""\\\"""#,
            "[ ]",
            "-1.5e3",
            "true",
            r#"{"k":"\\"}"#,
            r#""{\"x\": [\"]\"]}""#,
        ]
        .iter()
        .map(|s| (s.to_string(), true))
        .collect()
    }

    #[test]
    fn a_scalar_is_as_long_as_serde_json_reads_it() {
        for (text, len) in [
            ("0,", 1),
            ("-12]", 3),
            ("3.25}", 4),
            ("1e9 ", 3),
            ("-0.5E-07,", 8),
            ("6.02e+23x", 8),
            ("true,", 4),
            ("false]", 5),
            ("null", 4),
        ] {
            assert_eq!(scalar_len(text.as_bytes()), len, "{text}");
            // serde_json reads the same prefix as a whole value.
            serde_json::from_slice::<serde_json::Value>(&text.as_bytes()[..len]).unwrap();
        }
    }

    #[test]
    fn strings_escapes_and_nesting_do_not_end_a_value_early() {
        assert_eq!(cuts(TRICKY.as_bytes()), tricky_values());
        // Each value is one serde_json reads whole.
        for (v, _) in tricky_values() {
            serde_json::from_str::<serde_json::Value>(&v).unwrap();
        }
    }

    #[test]
    fn a_value_split_across_reads_at_any_byte_is_cut_the_same() {
        for at in 0..=TRICKY.len() {
            let (a, b) = TRICKY.as_bytes().split_at(at);
            assert_eq!(
                cuts(Split { parts: [a, b] }),
                tricky_values(),
                "split at {at}"
            );
        }
        // One byte per read: every boundary at once, escapes included.
        let one = Trickle {
            text: TRICKY.as_bytes(),
            step: 1,
        };
        assert_eq!(cuts(one), tricky_values());
    }

    #[test]
    fn a_value_longer_than_a_block_grows_the_window() {
        let long = format!("[\"{}\", {}]", "x\\\"".repeat(BLOCK), "[".repeat(3));
        let text = format!("{long} , 7");
        let got = cuts(Trickle {
            text: text.as_bytes(),
            step: 4096,
        });
        // The array is never closed: its three inner `[` keep it open to
        // the end, through the `, 7`.
        assert_eq!(got, vec![(text.clone(), false)]);
        let closed = format!("[\"{}\"]", "ab\\\\".repeat(BLOCK));
        let text = format!("{closed},1");
        let got = cuts(Trickle {
            text: text.as_bytes(),
            step: 5000,
        });
        assert_eq!(got, vec![(closed, true), ("1".to_string(), true)]);
    }

    #[test]
    fn the_window_stays_one_block_however_long_the_text() {
        // 40 MB of small values (160 blocks): the window never grows past
        // its first block, since no value is longer than what is left of
        // it after dropping what was consumed.
        let value = br#"{"name": "k", "args": {"grid": [1, 2, 3]}},"#;
        let text: Vec<u8> = value.iter().copied().cycle().take(40 << 20).collect();
        let mut w = Window::new(Trickle {
            text: &text,
            step: 1 << 16,
        });
        let mut values = 0usize;
        while let Some(b) = w.peek().unwrap() {
            if b == b',' {
                w.consume(1);
                continue;
            }
            let n = w.cut().unwrap().len();
            w.consume(n);
            values += 1;
            assert_eq!(w.buf.len(), BLOCK);
        }
        // 40 MiB / 44 bytes a value, the last one cut short.
        assert_eq!(values, (40 << 20) / value.len() + 1);
    }

    #[test]
    fn text_that_ends_inside_a_value_is_truncated() {
        for (text, cut) in [
            (r#"{"a": [1, 2"#, Cut::Truncated(11)),
            (r#""abc"#, Cut::Truncated(4)),
            // The escape takes the quote: the string never closes.
            (r#""abc\""#, Cut::Truncated(6)),
            (r#"[[[]]"#, Cut::Truncated(5)),
            // A number may end with the text.
            ("12", Cut::Whole(2)),
        ] {
            for step in 1..=text.len() {
                let mut w = Window::new(Trickle {
                    text: text.as_bytes(),
                    step,
                });
                w.peek().unwrap();
                assert_eq!(w.cut().unwrap(), cut, "{text} by {step}");
            }
        }
    }

    #[test]
    fn positions_count_lines_across_dropped_text() {
        // Line 3 starts at byte 10: "[1,\n 22,\n  333]".
        let text = "[1,\n 22,\n  333]";
        for step in 1..=text.len() {
            let mut w = Window::new(Trickle {
                text: text.as_bytes(),
                step,
            });
            w.peek().unwrap();
            w.consume(1);
            let mut starts = Vec::new();
            while let Some(b) = w.peek().unwrap() {
                if b == b',' || b == b']' {
                    w.consume(1);
                    continue;
                }
                // The position just past the value's first byte: its column
                // counted from 1.
                starts.push(w.at_next());
                let n = w.cut().unwrap().len();
                w.consume(n);
            }
            let p = |line, column| Position { line, column };
            // `1` at line 1 column 2; `22` at line 2 column 2; `333` at line 3 column 3.
            assert_eq!(starts, vec![p(1, 2), p(2, 2), p(3, 3)], "by {step}");
            // The end of the text: line 3, after its 6 bytes.
            assert_eq!(w.position(0), p(3, 6));
        }
    }

    #[test]
    fn serde_positions_in_a_slice_are_moved_to_the_whole_text() {
        // The second value is bad on the third line of the text (`tru}`);
        // found in its own slice, the fault is given where a parse of the
        // whole text gives it.
        let text = "[0,\n {\"a\":\n  tru}]";
        let whole = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
        let mut w = Window::new(text.as_bytes());
        w.peek().unwrap();
        w.consume(1);
        let mut found = None;
        while let Some(b) = w.peek().unwrap() {
            if b == b',' {
                w.consume(1);
                continue;
            }
            let n = w.cut().unwrap().len();
            if let Err(e) = serde_json::from_slice::<serde_json::Value>(&w.rest()[..n]) {
                found = Some(w.locate(0, &e));
                break;
            }
            w.consume(n);
        }
        assert_eq!(
            found,
            Some(Position {
                line: whole.line(),
                column: whole.column()
            })
        );
        assert_eq!(whole.line(), 3);
    }
}
