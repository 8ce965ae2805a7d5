//! Turning one CSV row into one typed record, or a reason (with its column) why it cannot be used.
//!
//! Columns are found by header name, so column order is free and unknown columns are kept as extra
//! properties. Every parser here is pure: cross-row checks (references, duplicates, totals) live in
//! the pipeline.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use csv::ByteRecord;
use graph_core::model::*;

use crate::checks::{self, Check};
use crate::normalize;

/// Why a row cannot be used, and the column at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub column: String,
    pub reason: String,
}

impl RowError {
    fn new(column: &str, reason: impl Into<String>) -> Self {
        Self {
            column: column.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A recoverable defect found while parsing a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowWarning {
    pub column: String,
    pub message: String,
}

/// The columns a table knows, required ones first marked.
pub fn known_columns(table: Table) -> &'static [(&'static str, bool)] {
    match table {
        Table::Members => &[("member_id", true), ("name", false), ("uscc", false)],
        Table::Persons => &[("person_id", true), ("name", false), ("id_number", false)],
        Table::Entities => &[
            ("entity_id", true),
            ("name", false),
            ("uscc", false),
            ("kind", false),
            ("registered_capital", false),
            ("established", false),
            ("status", false),
        ],
        Table::Accounts => &[
            ("account_id", true),
            ("holder_id", true),
            ("member_id", false),
            ("account_type", false),
            ("open_date", false),
            ("status", false),
        ],
        Table::Shareholdings => &[
            ("owner_id", true),
            ("entity_id", true),
            ("share_pct", true),
            ("kind", false),
        ],
        Table::Officers => &[("person_id", true), ("entity_id", true), ("role", true)],
        Table::Relations => &[("from_id", true), ("to_id", true), ("kind", true)],
        Table::Authorizations => &[("account_id", true), ("person_id", true), ("role", true)],
        Table::Identifiers => &[
            ("subject_id", true),
            ("kind", true),
            ("value", true),
            ("first_seen", false),
            ("last_seen", false),
            ("count", false),
        ],
        Table::Transfers => &[
            ("transfer_id", true),
            ("ts", true),
            ("from_account", true),
            ("to_account", true),
            ("amount", true),
        ],
        Table::Trades => &[
            ("trade_id", true),
            ("ts", true),
            ("instrument", true),
            ("buy_account", true),
            ("sell_account", true),
            ("price", true),
            ("volume", true),
        ],
        Table::ReportedGroups => &[
            ("group_id", true),
            ("account_id", true),
            ("reported_at", false),
        ],
        Table::Positions => &[
            ("date", true),
            ("account_id", true),
            ("instrument", true),
            ("long", true),
            ("short", true),
            ("purpose", false),
        ],
        Table::Orders => &[
            ("order_id", true),
            ("ts", true),
            ("account_id", true),
            ("instrument", true),
            ("side", true),
            ("offset", true),
            ("price", false),
            ("volume", true),
            ("filled", false),
            ("status", true),
            ("cancel_ts", false),
            ("purpose", false),
            ("order_type", false),
        ],
        Table::Limits => &[
            ("scope", true),
            ("kind", true),
            ("value", true),
            ("from_date", false),
            ("to_date", false),
        ],
        Table::TradingDays => &[("date", true)],
    }
}

/// Where each column of a file is, from its header.
#[derive(Debug, Clone)]
pub struct Columns {
    table: Table,
    known: Vec<Option<usize>>,
    extra: Vec<(usize, String)>,
}

impl Columns {
    /// Maps a header row; names are trimmed (and a BOM stripped) before matching. Returns the
    /// required columns that are missing as the error.
    pub fn from_header(table: Table, header: &[String]) -> Result<Columns, Vec<&'static str>> {
        let names: Vec<String> = header
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
            .collect();
        let cols = known_columns(table);
        let known: Vec<Option<usize>> = cols
            .iter()
            .map(|(c, _)| names.iter().position(|n| n == c))
            .collect();
        let missing: Vec<&'static str> = cols
            .iter()
            .zip(&known)
            .filter(|((_, req), at)| *req && at.is_none())
            .map(|((c, _), _)| *c)
            .collect();
        if !missing.is_empty() {
            return Err(missing);
        }
        let extra = names
            .iter()
            .enumerate()
            .filter(|(_, n)| !cols.iter().any(|(c, _)| c == n))
            .map(|(i, n)| (i, n.clone()))
            .collect();
        Ok(Columns {
            table,
            known,
            extra,
        })
    }
}

/// One row being parsed, collecting its warnings.
struct Row<'a> {
    rec: &'a ByteRecord,
    cols: &'a Columns,
    warnings: Vec<RowWarning>,
}

impl<'a> Row<'a> {
    /// The trimmed cell of a known column; `None` when absent or empty.
    fn get(&self, name: &str) -> Result<Option<&'a str>, RowError> {
        let i = known_columns(self.cols.table)
            .iter()
            .position(|(c, _)| *c == name)
            .expect("column names are the table's own");
        let Some(at) = self.cols.known[i] else {
            return Ok(None);
        };
        let Some(raw) = self.rec.get(at) else {
            return Ok(None);
        };
        let s = std::str::from_utf8(raw).map_err(|_| {
            RowError::new(
                name,
                "not valid UTF-8 (is the file GBK? use --encoding gbk)",
            )
        })?;
        let s = s.trim();
        Ok((!s.is_empty()).then_some(s))
    }

    fn required(&self, name: &str) -> Result<&'a str, RowError> {
        self.get(name)?
            .ok_or_else(|| RowError::new(name, "required cell is empty"))
    }

    fn id(&self, name: &str) -> Result<String, RowError> {
        let s = self.required(name)?;
        if let Some(c) = s.chars().find(|c| c.is_control()) {
            return Err(RowError::new(
                name,
                format!("id contains the control character U+{:04X}", u32::from(c)),
            ));
        }
        Ok(s.to_owned())
    }

    fn opt_id(&self, name: &str) -> Result<Option<String>, RowError> {
        match self.get(name)? {
            Some(_) => self.id(name).map(Some),
            None => Ok(None),
        }
    }

    fn text(&self, name: &str) -> Result<Option<String>, RowError> {
        Ok(self.get(name)?.map(normalize::text))
    }

    fn parse_enum<T: FromStr<Err = UnknownVariant>>(
        &self,
        name: &str,
    ) -> Result<Option<T>, RowError> {
        self.get(name)?
            .map(|s| {
                s.parse::<T>()
                    .map_err(|e| RowError::new(name, e.to_string()))
            })
            .transpose()
    }

    fn required_enum<T: FromStr<Err = UnknownVariant>>(&self, name: &str) -> Result<T, RowError> {
        self.parse_enum(name)?
            .ok_or_else(|| RowError::new(name, "required cell is empty"))
    }

    fn decimal(&self, name: &str) -> Result<Option<f64>, RowError> {
        self.get(name)?
            .map(|s| match s.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(RowError::new(name, format!("not a number: `{s}`"))),
            })
            .transpose()
    }

    fn required_decimal(&self, name: &str) -> Result<f64, RowError> {
        self.decimal(name)?
            .ok_or_else(|| RowError::new(name, "required cell is empty"))
    }

    fn integer(&self, name: &str) -> Result<Option<u64>, RowError> {
        self.get(name)?
            .map(|s| {
                s.parse::<u64>()
                    .map_err(|_| RowError::new(name, format!("not a whole number: `{s}`")))
            })
            .transpose()
    }

    fn required_integer(&self, name: &str) -> Result<u64, RowError> {
        self.integer(name)?
            .ok_or_else(|| RowError::new(name, "required cell is empty"))
    }

    /// A number of lots held: a whole number that must not be negative.
    fn lots(&self, name: &str) -> Result<u64, RowError> {
        let s = self.required(name)?;
        match s.parse::<i64>() {
            Ok(v) if v < 0 => Err(RowError::new(name, format!("negative position {v}"))),
            Ok(v) => Ok(v as u64),
            Err(_) => Err(RowError::new(name, format!("not a whole number: `{s}`"))),
        }
    }

    fn required_date(&self, name: &str) -> Result<NaiveDate, RowError> {
        self.date(name)?
            .ok_or_else(|| RowError::new(name, "required cell is empty"))
    }

    fn date(&self, name: &str) -> Result<Option<NaiveDate>, RowError> {
        self.get(name)?
            .map(|s| {
                parse_date(s)
                    .ok_or_else(|| RowError::new(name, format!("not a YYYY-MM-DD date: `{s}`")))
            })
            .transpose()
    }

    fn timestamp(&mut self, name: &str) -> Result<Option<i64>, RowError> {
        let Some(s) = self.get(name)? else {
            return Ok(None);
        };
        match parse_timestamp(s) {
            Some((micros, had_offset)) => {
                if !had_offset {
                    self.warn(
                        name,
                        "timestamp has no UTC offset; read as +08:00 (exchange time)",
                    );
                }
                Ok(Some(micros))
            }
            None => Err(RowError::new(
                name,
                format!("not an ISO 8601 timestamp: `{s}`"),
            )),
        }
    }

    fn required_timestamp(&mut self, name: &str) -> Result<i64, RowError> {
        self.timestamp(name)?
            .ok_or_else(|| RowError::new(name, "required cell is empty"))
    }

    fn warn(&mut self, column: &str, message: impl Into<String>) {
        self.warnings.push(RowWarning {
            column: column.to_owned(),
            message: message.into(),
        });
    }

    fn extra(&self) -> Extra {
        self.cols
            .extra
            .iter()
            .filter_map(|(i, name)| {
                let v = String::from_utf8_lossy(self.rec.get(*i)?).trim().to_owned();
                (!v.is_empty()).then(|| (name.clone(), v))
            })
            .collect()
    }

    fn id_number(&mut self, name: &str) -> Result<Option<String>, RowError> {
        let Some(raw) = self.get(name)? else {
            return Ok(None);
        };
        let v = normalize::id_number(raw);
        match checks::check_id_number(&v) {
            Check::Valid | Check::Masked => {}
            Check::Malformed => self.warn(name, format!("malformed identity number `{v}`")),
            Check::BadCheck => {
                self.warn(name, format!("identity number `{v}` fails its check digit"));
            }
        }
        Ok(Some(v))
    }

    fn uscc(&mut self, name: &str) -> Result<Option<String>, RowError> {
        let Some(raw) = self.get(name)? else {
            return Ok(None);
        };
        let v = normalize::uscc(raw);
        match checks::check_uscc(&v) {
            Check::Valid | Check::Masked => {}
            Check::Malformed => self.warn(name, format!("malformed USCC `{v}`")),
            Check::BadCheck => self.warn(name, format!("USCC `{v}` fails its check character")),
        }
        Ok(Some(v))
    }
}

/// Whether `s` starts with `YYYY-MM-DD` digit for digit (chrono alone takes `24-01-01` for the
/// year 24 and `2024-1-5` for a date).
fn has_full_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// Parses a `YYYY-MM-DD` date: four-digit year, two-digit month and day.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    if s.len() != 10 || !has_full_date(s) {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Parses an ISO 8601 timestamp to microseconds since the epoch; the flag says whether it carried
/// an offset (one without is read as exchange time, +08:00).
pub fn parse_timestamp(s: &str) -> Option<(i64, bool)> {
    if !has_full_date(s) {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some((t.timestamp_micros(), true));
    }
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()?;
    let cst = chrono::FixedOffset::east_opt(8 * 3600)?;
    let t = cst.from_local_datetime(&naive).single()?;
    Some((t.timestamp_micros(), false))
}

/// A parsed row: the record and any recoverable defects.
pub type Parsed = (Record, Vec<RowWarning>);

/// Parses one data row of `table`.
pub fn parse(table: Table, cols: &Columns, rec: &ByteRecord) -> Result<Parsed, RowError> {
    let mut r = Row {
        rec,
        cols,
        warnings: Vec::new(),
    };
    let record = match table {
        Table::Members => Record::Member(Member {
            member_id: r.id("member_id")?,
            name: r.text("name")?,
            uscc: r.uscc("uscc")?,
            extra: r.extra(),
        }),
        Table::Persons => Record::Person(Person {
            person_id: r.id("person_id")?,
            name: r.text("name")?,
            id_number: r.id_number("id_number")?,
            extra: r.extra(),
        }),
        Table::Entities => Record::Entity(Entity {
            entity_id: r.id("entity_id")?,
            name: r.text("name")?,
            uscc: r.uscc("uscc")?,
            kind: r.parse_enum("kind")?,
            registered_capital: r.decimal("registered_capital")?,
            established: r.date("established")?,
            status: r.parse_enum("status")?,
            extra: r.extra(),
        }),
        Table::Accounts => Record::Account(Account {
            account_id: r.id("account_id")?,
            holder_id: r.id("holder_id")?,
            member_id: r.opt_id("member_id")?,
            account_type: r.parse_enum("account_type")?,
            open_date: r.date("open_date")?,
            status: r.parse_enum("status")?,
            extra: r.extra(),
        }),
        Table::Shareholdings => {
            let pct = r.required_decimal("share_pct")?;
            if !(pct > 0.0 && pct <= 100.0) {
                return Err(RowError::new(
                    "share_pct",
                    format!("percentage {pct} is outside (0, 100]"),
                ));
            }
            Record::Shareholding(Shareholding {
                owner_id: r.id("owner_id")?,
                entity_id: r.id("entity_id")?,
                share_min: pct,
                share_max: pct,
                kind: r.parse_enum("kind")?.unwrap_or(ShareKind::Equity),
                extra: r.extra(),
            })
        }
        Table::Officers => Record::Officer(Officer {
            person_id: r.id("person_id")?,
            entity_id: r.id("entity_id")?,
            role: r.required_enum("role")?,
            extra: r.extra(),
        }),
        Table::Relations => {
            let rel = Relation {
                from_id: r.id("from_id")?,
                to_id: r.id("to_id")?,
                kind: r.required_enum("kind")?,
                extra: r.extra(),
            };
            if rel.from_id == rel.to_id {
                return Err(RowError::new(
                    "to_id",
                    "a relation from a subject to itself",
                ));
            }
            Record::Relation(rel)
        }
        Table::Authorizations => Record::Authorization(Authorization {
            account_id: r.id("account_id")?,
            person_id: r.id("person_id")?,
            role: r.required_enum("role")?,
            extra: r.extra(),
        }),
        Table::Identifiers => {
            let kind: IdentifierKind = r.required_enum("kind")?;
            let raw = r.required("value")?;
            let value = normalize::identifier(kind, raw)
                .map_err(|e| RowError::new("value", e.to_string()))?;
            let first_seen = r.timestamp("first_seen")?;
            let last_seen = r.timestamp("last_seen")?;
            if let (Some(f), Some(l)) = (first_seen, last_seen)
                && l < f
            {
                r.warn("last_seen", "last_seen is before first_seen");
            }
            Record::Identifier(IdentifierObs {
                subject_id: r.id("subject_id")?,
                kind,
                value,
                first_seen,
                last_seen,
                count: r.integer("count")?,
                extra: r.extra(),
            })
        }
        Table::Transfers => {
            let amount = r.required_decimal("amount")?;
            if amount < 0.0 {
                return Err(RowError::new("amount", format!("negative amount {amount}")));
            }
            Record::Transfer(Transfer {
                transfer_id: r.id("transfer_id")?,
                ts: r.required_timestamp("ts")?,
                from_account: r.id("from_account")?,
                to_account: r.id("to_account")?,
                amount,
                extra: r.extra(),
            })
        }
        Table::Trades => {
            let price = r.required_decimal("price")?;
            if price <= 0.0 {
                return Err(RowError::new(
                    "price",
                    format!("price {price} is not positive"),
                ));
            }
            let volume = r
                .integer("volume")?
                .ok_or_else(|| RowError::new("volume", "required cell is empty"))?;
            if volume == 0 {
                return Err(RowError::new("volume", "volume is zero"));
            }
            Record::Trade(Trade {
                trade_id: r.id("trade_id")?,
                ts: r.required_timestamp("ts")?,
                instrument: r.required("instrument")?.to_owned(),
                buy_account: r.id("buy_account")?,
                sell_account: r.id("sell_account")?,
                price,
                volume,
                extra: r.extra(),
            })
        }
        Table::ReportedGroups => Record::ReportedGroup(ReportedGroup {
            group_id: r.id("group_id")?,
            account_id: r.id("account_id")?,
            reported_at: r.date("reported_at")?,
            extra: r.extra(),
        }),
        Table::Positions => Record::Position(Position {
            date: r.required_date("date")?,
            account_id: r.id("account_id")?,
            instrument: r.required("instrument")?.to_owned(),
            long: r.lots("long")?,
            short: r.lots("short")?,
            purpose: r.parse_enum("purpose")?.unwrap_or(Purpose::Speculation),
            extra: r.extra(),
        }),
        Table::Orders => {
            let ts = r.required_timestamp("ts")?;
            let volume = r.required_integer("volume")?;
            if volume == 0 {
                return Err(RowError::new("volume", "volume is zero"));
            }
            let filled = r.integer("filled")?.unwrap_or(0);
            if filled > volume {
                return Err(RowError::new(
                    "filled",
                    format!("filled {filled} is above the volume {volume}"),
                ));
            }
            let status: OrderStatus = r.required_enum("status")?;
            let cancel_ts = r.timestamp("cancel_ts")?;
            match cancel_ts {
                None if status == OrderStatus::Cancelled => {
                    return Err(RowError::new(
                        "cancel_ts",
                        "a cancelled order needs its cancel_ts",
                    ));
                }
                Some(c) if c < ts => {
                    return Err(RowError::new(
                        "cancel_ts",
                        "cancel_ts is before the order's ts",
                    ));
                }
                _ => {}
            }
            let price = r.decimal("price")?;
            if let Some(p) = price
                && p <= 0.0
            {
                return Err(RowError::new("price", format!("price {p} is not positive")));
            }
            Record::Order(Order {
                order_id: r.id("order_id")?,
                ts,
                account_id: r.id("account_id")?,
                instrument: r.required("instrument")?.to_owned(),
                side: r.required_enum("side")?,
                offset: r.required_enum("offset")?,
                price,
                volume,
                filled,
                status,
                cancel_ts,
                purpose: r.parse_enum("purpose")?.unwrap_or(Purpose::Speculation),
                order_type: r.parse_enum("order_type")?.unwrap_or(OrderType::Limit),
                extra: r.extra(),
            })
        }
        Table::Limits => {
            let from_date = r.date("from_date")?;
            let to_date = r.date("to_date")?;
            if let (Some(f), Some(t)) = (from_date, to_date)
                && t < f
            {
                return Err(RowError::new("to_date", "to_date is before from_date"));
            }
            Record::Limit(Limit {
                scope: r.id("scope")?,
                kind: r.required_enum("kind")?,
                value: r.required_integer("value")?,
                from_date,
                to_date,
                extra: r.extra(),
            })
        }
        Table::TradingDays => Record::TradingDay(TradingDay {
            date: r.required_date("date")?,
            extra: r.extra(),
        }),
    };
    Ok((record, r.warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(table: Table, header: &[&str], cells: &[&str]) -> Result<Parsed, RowError> {
        let header: Vec<String> = header.iter().map(|s| s.to_string()).collect();
        let cols = Columns::from_header(table, &header).unwrap();
        parse(table, &cols, &ByteRecord::from(cells.to_vec()))
    }

    #[test]
    fn header_order_is_free_and_extras_are_kept() {
        let (rec, w) = row(
            Table::Accounts,
            &["status", "branch", "holder_id", "account_id"],
            &["active", "SH-01", "P1", "A1"],
        )
        .unwrap();
        assert!(w.is_empty());
        let Record::Account(a) = rec else { panic!() };
        assert_eq!(a.account_id, "A1");
        assert_eq!(a.holder_id, "P1");
        assert_eq!(a.status, Some(AccountStatus::Active));
        assert_eq!(a.extra.get("branch").map(String::as_str), Some("SH-01"));
    }

    #[test]
    fn missing_required_column_is_named() {
        let header = vec!["account_id".to_string()];
        assert_eq!(
            Columns::from_header(Table::Accounts, &header).unwrap_err(),
            vec!["holder_id"]
        );
        let bom = vec!["\u{feff}account_id".to_string(), "holder_id".to_string()];
        assert!(Columns::from_header(Table::Accounts, &bom).is_ok());
    }

    #[test]
    fn rejects_say_column_and_reason() {
        let h = ["owner_id", "entity_id", "share_pct"];
        let e = row(Table::Shareholdings, &h, &["P1", "E1", "120"]).unwrap_err();
        assert_eq!(e.column, "share_pct");
        assert!(e.reason.contains("outside (0, 100]"));
        let e = row(Table::Shareholdings, &h, &["P1", "E1", "abc"]).unwrap_err();
        assert_eq!(e.reason, "not a number: `abc`");
        let e = row(Table::Shareholdings, &h, &["P1", "", "20"]).unwrap_err();
        assert_eq!(
            (e.column.as_str(), e.reason.as_str()),
            ("entity_id", "required cell is empty")
        );
        let e = row(
            Table::Officers,
            &["person_id", "entity_id", "role"],
            &["P1", "E1", "ceo"],
        )
        .unwrap_err();
        assert!(e.reason.starts_with("unknown officer role `ceo`"));
        let th = [
            "trade_id",
            "ts",
            "instrument",
            "buy_account",
            "sell_account",
            "price",
            "volume",
        ];
        let e = row(
            Table::Trades,
            &th,
            &[
                "T1",
                "2024-13-01T09:30:00+08:00",
                "IF2403",
                "A",
                "B",
                "3500",
                "1",
            ],
        )
        .unwrap_err();
        assert_eq!(e.column, "ts");
    }

    const ORDER: [&str; 13] = [
        "order_id",
        "ts",
        "account_id",
        "instrument",
        "side",
        "offset",
        "price",
        "volume",
        "filled",
        "status",
        "cancel_ts",
        "purpose",
        "order_type",
    ];

    fn order(
        volume: &str,
        filled: &str,
        status: &str,
        cancel_ts: &str,
    ) -> Result<Parsed, RowError> {
        row(
            Table::Orders,
            &ORDER,
            &[
                "O1",
                "2024-03-04T09:30:00.000001+08:00",
                "A1",
                "IF2403",
                "buy",
                "open",
                "3500.2",
                volume,
                filled,
                status,
                cancel_ts,
                "",
                "",
            ],
        )
    }

    #[test]
    fn surveillance_rows_parse_with_their_defaults() {
        let (rec, w) = order("10", "", "cancelled", "2024-03-04T09:30:01+08:00").unwrap();
        assert!(w.is_empty());
        let Record::Order(o) = rec else { panic!() };
        assert_eq!(o.filled, 0);
        assert_eq!(o.purpose, Purpose::Speculation);
        assert_eq!(o.order_type, OrderType::Limit);
        assert_eq!(o.cancelled_lots(), 10);
        assert_eq!(o.cancel_ts.unwrap() - o.ts, 999_999);
        let (rec, _) = row(
            Table::Positions,
            &[
                "date",
                "account_id",
                "instrument",
                "long",
                "short",
                "purpose",
            ],
            &["2024-03-04", "A1", "T2406", "12", "0", "hedging"],
        )
        .unwrap();
        let Record::Position(p) = rec else { panic!() };
        assert_eq!((p.long, p.short, p.purpose), (12, 0, Purpose::Hedging));
        let (rec, _) = row(
            Table::Limits,
            &["scope", "kind", "value", "from_date"],
            &["IF", "large_cancel_size", "300", "2024-03-01"],
        )
        .unwrap();
        let Record::Limit(l) = rec else { panic!() };
        assert_eq!(
            (l.kind, l.value, l.to_date),
            (LimitKind::LargeCancelSize, 300, None)
        );
    }

    #[test]
    fn surveillance_rejects_say_column_and_reason() {
        let ph = ["date", "account_id", "instrument", "long", "short"];
        let e = row(
            Table::Positions,
            &ph,
            &["2024-03-04", "A1", "IF2403", "-3", "0"],
        )
        .unwrap_err();
        assert_eq!(
            (e.column.as_str(), e.reason.as_str()),
            ("long", "negative position -3")
        );
        let e = row(
            Table::Positions,
            &ph,
            &["2024-03-04", "A1", "IF2403", "0", "-1"],
        )
        .unwrap_err();
        assert_eq!(e.column, "short");
        let e = order("5", "6", "filled", "").unwrap_err();
        assert_eq!(e.column, "filled");
        assert!(e.reason.contains("above the volume 5"));
        let e = order("5", "0", "cancelled", "").unwrap_err();
        assert_eq!(
            (e.column.as_str(), e.reason.as_str()),
            ("cancel_ts", "a cancelled order needs its cancel_ts")
        );
        let e = order("5", "0", "cancelled", "2024-03-04T09:29:59+08:00").unwrap_err();
        assert_eq!(e.reason, "cancel_ts is before the order's ts");
        let e = order("0", "0", "open", "").unwrap_err();
        assert_eq!(e.column, "volume");
        let e = order("5", "0", "expired", "").unwrap_err();
        assert!(e.reason.starts_with("unknown order status `expired`"));
        let e = row(
            Table::Limits,
            &["scope", "kind", "value"],
            &["IF", "margin", "5"],
        )
        .unwrap_err();
        assert_eq!(e.column, "kind");
        assert!(e.reason.starts_with("unknown limit kind `margin`"));
        let e = row(
            Table::Limits,
            &["scope", "kind", "value", "from_date", "to_date"],
            &["IF", "cancel", "400", "2024-03-08", "2024-03-01"],
        )
        .unwrap_err();
        assert_eq!(e.column, "to_date");
    }

    #[test]
    fn timestamps_keep_microseconds_and_offsets() {
        let (a, had) = parse_timestamp("2024-03-01T09:30:00.123456+08:00").unwrap();
        assert!(had);
        let (b, had) = parse_timestamp("2024-03-01 09:30:00.123456").unwrap();
        assert!(!had);
        assert_eq!(a, b);
        let (z, _) = parse_timestamp("2024-03-01T01:30:00.123456Z").unwrap();
        assert_eq!(a, z);
        assert_eq!(a % 1_000_000, 123_456);
    }

    #[test]
    fn dates_are_yyyy_mm_dd_digit_for_digit() {
        let h = ["account_id", "holder_id", "open_date"];
        for bad in [
            "24-01-01",
            "2024-1-05",
            "2024-01-5",
            "+2024-01-05",
            "2024-01-05x",
        ] {
            let e = row(Table::Accounts, &h, &["A1", "P1", bad]).unwrap_err();
            assert_eq!(e.column, "open_date", "{bad}");
            assert_eq!(e.reason, format!("not a YYYY-MM-DD date: `{bad}`"));
        }
        let (rec, _) = row(Table::Accounts, &h, &["A1", "P1", "0999-12-31"]).unwrap();
        let Record::Account(a) = rec else { panic!() };
        assert_eq!(a.open_date, NaiveDate::from_ymd_opt(999, 12, 31));
        assert!(parse_timestamp("24-03-01T09:30:00+08:00").is_none());
        assert!(parse_timestamp("2024-3-01 09:30:00").is_none());
    }

    #[test]
    fn control_characters_in_ids_are_rejected() {
        let h = ["account_id", "holder_id", "member_id"];
        for (cells, col) in [
            (["A\u{0}1", "P1", ""], "account_id"),
            (["A1", "P\u{7}1", ""], "holder_id"),
            (["A1", "P1", "M\u{7f}"], "member_id"),
            (["A1", "P\u{85}1", ""], "holder_id"),
        ] {
            let e = row(Table::Accounts, &h, &cells).unwrap_err();
            assert_eq!(e.column, col, "{cells:?}");
            assert!(
                e.reason.starts_with("id contains the control character U+"),
                "{e:?}"
            );
        }
    }

    #[test]
    fn bad_check_digits_are_warnings_not_rejects() {
        let (rec, w) = row(
            Table::Persons,
            &["person_id", "name", "id_number"],
            &["P1", "张　三", "110105194912310021"],
        )
        .unwrap();
        let Record::Person(p) = rec else { panic!() };
        assert_eq!(p.name.as_deref(), Some("张 三"));
        assert_eq!(w.len(), 1);
        assert!(w[0].message.contains("fails its check digit"));
        let (_, w) = row(
            Table::Persons,
            &["person_id", "id_number"],
            &["P2", "310101********1234"],
        )
        .unwrap();
        assert!(w.is_empty(), "masked numbers are expected, not defects");
    }
}
