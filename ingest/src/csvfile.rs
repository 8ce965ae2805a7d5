//! Splitting a CSV file into rows with RFC 4180 quoting, so that a defect in one row stays in
//! that row.
//!
//! The `csv` crate is lenient: a quote that is never closed swallows the rest of the file into one
//! cell, and the rows after it are lost or misread. Here a quoted cell may span lines (RFC 4180
//! allows line breaks inside quotes), but its quote is *unterminated* when, before a closing quote,
//! the file ends, a quote appears that cannot close it (one followed by anything but a comma, a
//! second quote or the end of the line: the opening quote of a later cell), or the cell grows past
//! [`MAX_QUOTED_BYTES`]. Such a row comes back as [`Next::Malformed`] naming the line where the
//! quote opened, and reading resumes at the line after that one, so every later row is read as
//! written. Blank lines are not rows and are skipped.

use std::collections::VecDeque;
use std::io::BufRead;

use csv::ByteRecord;

/// The longest quoted cell accepted; a longer one is taken for an unterminated quote.
pub const MAX_QUOTED_BYTES: usize = 1 << 20;

/// What [`Rows::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// A row, its cells in the record, starting on this line.
    Row { line: u64 },
    /// A row that cannot be split into cells.
    Malformed {
        line: u64,
        reason: String,
        /// The row's text as it stands in the file.
        raw: String,
    },
    /// The end of the file.
    End,
}

/// The rows of one CSV file.
#[derive(Debug)]
pub struct Rows<R> {
    inner: R,
    /// The number of the next line `inner` gives.
    next_line: u64,
    /// Lines read ahead while looking for a closing quote, to be read again.
    pending: VecDeque<(u64, Vec<u8>)>,
    at_start: bool,
    /// Set once a search for a closing quote reached the end of the file: no line from this one
    /// on holds a quote, so a quote open at such a line is never closed.
    quote_free_from: Option<u64>,
}

enum Scan {
    /// The row ended with this line.
    Done,
    /// The line ended inside a quoted cell opened on this line.
    Open(u64),
    /// A quote inside a quoted cell (opened on this line) that neither closes nor doubles.
    Stray(u64),
}

impl<R: BufRead> Rows<R> {
    pub fn new(inner: R) -> Self {
        Rows {
            inner,
            next_line: 1,
            pending: VecDeque::new(),
            at_start: true,
            quote_free_from: None,
        }
    }

    /// The next physical line with its terminator, or `None` at the end.
    fn line(&mut self) -> std::io::Result<Option<(u64, Vec<u8>)>> {
        if let Some(l) = self.pending.pop_front() {
            return Ok(Some(l));
        }
        let mut buf = Vec::new();
        if self.inner.read_until(b'\n', &mut buf)? == 0 {
            return Ok(None);
        }
        if self.at_start {
            self.at_start = false;
            if buf.starts_with(b"\xEF\xBB\xBF") {
                buf.drain(..3);
            }
        }
        let n = self.next_line;
        self.next_line += 1;
        Ok(Some((n, buf)))
    }

    /// Reads the next row into `rec`.
    pub fn next(&mut self, rec: &mut ByteRecord) -> std::io::Result<Next> {
        let (start, first) = loop {
            match self.line()? {
                None => return Ok(Next::End),
                Some((n, l)) if !l.iter().all(|b| matches!(b, b'\r' | b'\n')) => break (n, l),
                Some(_) => {}
            }
        };
        rec.clear();
        let mut lines = vec![(start, first)];
        let mut field = Vec::new();
        let mut open: Option<u64> = None;
        loop {
            let (n, text) = lines.last().expect("one line at least");
            let outcome = scan(*n, text, open, &mut field, rec);
            let opened = match outcome {
                Scan::Done => return Ok(Next::Row { line: start }),
                Scan::Stray(q) if q == *n => {
                    return Ok(self.malformed(
                        start,
                        lines,
                        q,
                        format!(
                            "a quote inside the quoted cell opened on line {q} is neither doubled nor followed by a comma"
                        ),
                    ));
                }
                Scan::Stray(q) => return Ok(self.unterminated(start, lines, q)),
                Scan::Open(q) => q,
            };
            open = Some(opened);
            let next_line = self.next_line;
            let quote_free = self
                .quote_free_from
                .is_some_and(|f| self.pending.front().map_or(next_line, |l| l.0) >= f);
            if field.len() > MAX_QUOTED_BYTES || quote_free {
                return Ok(self.unterminated(start, lines, opened));
            }
            match self.line()? {
                Some(l) => lines.push(l),
                None => {
                    // No line after the opening one holds a quote that could close it.
                    let quoteless_from = lines
                        .iter()
                        .rposition(|(_, l)| l.contains(&b'"'))
                        .map_or(opened + 1, |i| lines[i].0 + 1)
                        .max(opened + 1);
                    self.quote_free_from = Some(quoteless_from);
                    return Ok(self.unterminated(start, lines, opened));
                }
            }
        }
    }

    fn unterminated(&mut self, start: u64, lines: Vec<(u64, Vec<u8>)>, opened: u64) -> Next {
        self.malformed(
            start,
            lines,
            opened,
            format!("unterminated quote opened on line {opened}"),
        )
    }

    /// The row from `start` to line `last` is malformed; the lines read after `last` are read
    /// again.
    fn malformed(
        &mut self,
        start: u64,
        mut lines: Vec<(u64, Vec<u8>)>,
        last: u64,
        reason: String,
    ) -> Next {
        let keep = lines
            .iter()
            .position(|(n, _)| *n > last)
            .unwrap_or(lines.len());
        for l in lines.drain(keep..).rev() {
            self.pending.push_front(l);
        }
        let raw: Vec<u8> = lines.into_iter().flat_map(|(_, l)| l).collect();
        Next::Malformed {
            line: start,
            reason,
            raw: String::from_utf8_lossy(&raw).trim_end().to_owned(),
        }
    }
}

/// Splits one line into cells, continuing a quoted cell opened on line `open` when given.
fn scan(
    n: u64,
    text: &[u8],
    mut open: Option<u64>,
    field: &mut Vec<u8>,
    rec: &mut ByteRecord,
) -> Scan {
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    let mut i = 0;
    loop {
        if let Some(q) = open {
            // Inside a quoted cell.
            match body[i..].iter().position(|&b| b == b'"') {
                None => {
                    field.extend_from_slice(&body[i..]);
                    field.extend_from_slice(&text[body.len()..]);
                    return Scan::Open(q);
                }
                Some(at) => {
                    field.extend_from_slice(&body[i..i + at]);
                    i += at + 1;
                    match body.get(i) {
                        Some(b'"') => {
                            field.push(b'"');
                            i += 1;
                        }
                        Some(b',') => {
                            rec.push_field(field);
                            field.clear();
                            open = None;
                            i += 1;
                            if i == body.len() {
                                rec.push_field(b"");
                                return Scan::Done;
                            }
                        }
                        None => {
                            rec.push_field(field);
                            field.clear();
                            return Scan::Done;
                        }
                        Some(_) => return Scan::Stray(q),
                    }
                }
            }
        } else if body.get(i) == Some(&b'"') {
            open = Some(n);
            i += 1;
        } else {
            // An unquoted cell: up to the next comma (a quote inside it is taken as it is).
            match body[i..].iter().position(|&b| b == b',') {
                None => {
                    rec.push_field(&body[i..]);
                    return Scan::Done;
                }
                Some(at) => {
                    rec.push_field(&body[i..i + at]);
                    i += at + 1;
                    if i == body.len() {
                        rec.push_field(b"");
                        return Scan::Done;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row's line and cells, or a malformed row's line and reason.
    type Split = Result<(u64, Vec<String>), (u64, String)>;

    fn all(text: &str) -> Vec<Split> {
        let mut rows = Rows::new(text.as_bytes());
        let mut rec = ByteRecord::new();
        let mut out = Vec::new();
        loop {
            match rows.next(&mut rec).unwrap() {
                Next::End => return out,
                Next::Row { line } => out.push(Ok((
                    line,
                    rec.iter()
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect(),
                ))),
                Next::Malformed { line, reason, .. } => out.push(Err((line, reason))),
            }
        }
    }

    fn ok(line: u64, cells: &[&str]) -> Split {
        Ok((line, cells.iter().map(|s| s.to_string()).collect()))
    }

    #[test]
    fn cells_follow_rfc_4180() {
        let rows =
            all("\u{feff}a,b,c\r\n\"x,1\",\"say \"\"hi\"\"\",\n\n\"two\nlines\",,\"\"\nlast");
        assert_eq!(
            rows,
            [
                ok(1, &["a", "b", "c"]),
                ok(2, &["x,1", "say \"hi\"", ""]),
                ok(4, &["two\nlines", "", ""]),
                ok(6, &["last"]),
            ]
        );
        // A quote inside an unquoted cell is taken as it is.
        assert_eq!(all("5\" disk,x\n"), [ok(1, &["5\" disk", "x"])]);
    }

    #[test]
    fn an_unterminated_quote_costs_its_row_only() {
        let mut text = String::from("id,name\n");
        for i in 1..=9 {
            if i == 5 {
                text.push_str("A5,\"broken\n");
            } else {
                text.push_str(&format!("A{i},n{i}\n"));
            }
        }
        let rows = all(&text);
        assert_eq!(rows.len(), 10, "{rows:?}");
        assert_eq!(
            rows[5],
            Err((6, "unterminated quote opened on line 6".into()))
        );
        assert_eq!(rows[9], ok(10, &["A9", "n9"]));
        // The opening quote of a later cell cannot close it either.
        let rows = all("id,name\nA1,\"broken\nA2,n2\nA3,\"Lee, Ann\"\nA4,n4\n");
        assert_eq!(
            rows,
            [
                ok(1, &["id", "name"]),
                Err((2, "unterminated quote opened on line 2".into())),
                ok(3, &["A2", "n2"]),
                ok(4, &["A3", "Lee, Ann"]),
                ok(5, &["A4", "n4"]),
            ]
        );
        let rows = all("id\n\"a\"b\nA2\n");
        assert!(matches!(&rows[1], Err((2, r)) if r.contains("neither doubled")));
        assert_eq!(rows[2], ok(3, &["A2"]));
    }

    #[test]
    fn many_unterminated_quotes_are_found_quickly() {
        let mut text = String::from("id,name\n");
        for i in 0..20_000 {
            text.push_str(&format!("A{i},\"n{i}\n"));
        }
        let started = std::time::Instant::now();
        let rows = all(&text);
        assert_eq!(rows.len(), 20_001);
        assert!(rows[1..].iter().all(Result::is_err));
        assert!(started.elapsed().as_secs() < 5);
    }
}
