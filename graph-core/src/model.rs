//! The records of the dataset contract (`shared/spec/input-format.md`) as typed values.
//!
//! These are the currency between ingest, the stores, the generator and the graph builder. Every
//! record carries the ids it was written with; the graph interns them. Enumerations parse from and
//! print to exactly the spellings of the contract, so one table serves parsing, storing and
//! reporting.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Unknown columns of a row, kept as extra properties (column name to cell).
pub type Extra = BTreeMap<String, String>;

/// An enumeration value that is not one of the contract's spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}` (expected one of: {expected})")]
pub struct UnknownVariant {
    /// The enumeration, as the contract names its column.
    pub what: &'static str,
    /// The offending value.
    pub value: String,
    /// The accepted spellings, comma-separated.
    pub expected: String,
}

/// Declares a closed enumeration with its contract spellings, `FromStr`, `Display` and `ALL`.
macro_rules! contract_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling used in the dataset contract.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownVariant {
                        what: $what,
                        value: s.to_owned(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

contract_enum!(
    /// The kind of a business-registry entity.
    EntityKind, "entity kind" {
        Company => "company",
        Partnership => "partnership",
        AssetManager => "asset_manager",
        FundProduct => "fund_product",
        Bank => "bank",
        Insurer => "insurer",
        SecuritiesFirm => "securities_firm",
        Trust => "trust",
        Qfii => "qfii",
        StateBody => "state_body",
        Other => "other",
    }
);

impl EntityKind {
    /// Institutions are the entities of these kinds (the contract's definition).
    pub fn is_institution(self) -> bool {
        matches!(
            self,
            Self::AssetManager
                | Self::FundProduct
                | Self::Bank
                | Self::Insurer
                | Self::SecuritiesFirm
                | Self::Trust
                | Self::Qfii
        )
    }
}

contract_enum!(
    /// Registry status of an entity.
    EntityStatus, "entity status" {
        Active => "active",
        Revoked => "revoked",
        Cancelled => "cancelled",
        Other => "other",
    }
);

contract_enum!(
    /// The type of a trading account.
    AccountType, "account type" {
        Individual => "individual",
        Institution => "institution",
        Product => "product",
    }
);

contract_enum!(
    /// The status of a trading account.
    AccountStatus, "account status" {
        Active => "active",
        Dormant => "dormant",
        Closed => "closed",
    }
);

contract_enum!(
    /// The kind of a shareholding.
    ShareKind, "shareholding kind" {
        Equity => "equity",
        Voting => "voting",
        GeneralPartner => "general_partner",
        LimitedPartner => "limited_partner",
    }
);

contract_enum!(
    /// The role of a person in an entity.
    OfficerRole, "officer role" {
        LegalRep => "legal_rep",
        Director => "director",
        Supervisor => "supervisor",
        Executive => "executive",
        FundManager => "fund_manager",
    }
);

contract_enum!(
    /// A tie between two persons or entities other than shares and offices.
    RelationKind, "relation kind" {
        Spouse => "spouse",
        Parent => "parent",
        Child => "child",
        Sibling => "sibling",
        Relative => "relative",
        EmployeeOf => "employee_of",
        Manages => "manages",
        AgentOf => "agent_of",
        Guarantor => "guarantor",
    }
);

impl RelationKind {
    /// Family ties (criteria C4 and C5).
    pub fn is_family(self) -> bool {
        matches!(
            self,
            Self::Spouse | Self::Parent | Self::Child | Self::Sibling | Self::Relative
        )
    }
}

contract_enum!(
    /// The role of a person authorised on an account.
    AuthRole, "authorisation role" {
        OrderPlacer => "order_placer",
        FundTransfer => "fund_transfer",
        SettlementConfirm => "settlement_confirm",
        OpeningAgent => "opening_agent",
    }
);

contract_enum!(
    /// The kind of an observed contact detail or terminal fingerprint.
    IdentifierKind, "identifier kind" {
        Phone => "phone",
        Email => "email",
        Address => "address",
        BankAccount => "bank_account",
        Ip => "ip",
        Mac => "mac",
        DiskSerial => "disk_serial",
        DeviceName => "device_name",
    }
);

contract_enum!(
    /// Why a position is held or an order placed; everything but speculation is exempt from the
    /// position, opening and cancellation checks.
    Purpose, "purpose" {
        Speculation => "speculation",
        Hedging => "hedging",
        Arbitrage => "arbitrage",
        MarketMaking => "market_making",
    }
);

impl Purpose {
    /// Whether positions of this purpose count against the position and opening limits.
    pub fn is_speculative(self) -> bool {
        self == Purpose::Speculation
    }
}

contract_enum!(
    /// The side of an order.
    Side, "side" {
        Buy => "buy",
        Sell => "sell",
    }
);

contract_enum!(
    /// Whether an order opens or closes a position.
    Offset, "offset" {
        Open => "open",
        Close => "close",
    }
);

contract_enum!(
    /// Where an order stands.
    OrderStatus, "order status" {
        Filled => "filled",
        PartiallyFilled => "partially_filled",
        Cancelled => "cancelled",
        Rejected => "rejected",
        Open => "open",
    }
);

contract_enum!(
    /// How an order is to be executed.
    OrderType, "order type" {
        Limit => "limit",
        Market => "market",
        Fok => "fok",
        Fak => "fak",
    }
);

impl OrderType {
    /// Fill-or-kill and fill-and-kill orders cancel by design and are left out of the
    /// cancellation counts.
    pub fn is_immediate(self) -> bool {
        matches!(self, OrderType::Fok | OrderType::Fak)
    }
}

contract_enum!(
    /// What a row of `limits.csv` limits.
    LimitKind, "limit kind" {
        /// Speculative lots per side held at the end of a day.
        Position => "position",
        /// Speculative lots opened in one product in one day.
        Opening => "opening",
        /// Self-trades per contract per day.
        SelfTrade => "self_trade",
        /// Cancellations per contract per day.
        Cancel => "cancel",
        /// Large cancellations per contract per day.
        LargeCancel => "large_cancel",
        /// Lots from which a cancellation is large.
        LargeCancelSize => "large_cancel_size",
    }
);

/// An exchange member (futures company, broker).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub member_id: String,
    pub name: Option<String>,
    pub uscc: Option<String>,
    pub extra: Extra,
}

/// A natural person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub person_id: String,
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub extra: Extra,
}

/// A business-registry entity or institution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub entity_id: String,
    pub name: Option<String>,
    pub uscc: Option<String>,
    pub kind: Option<EntityKind>,
    pub registered_capital: Option<f64>,
    pub established: Option<NaiveDate>,
    pub status: Option<EntityStatus>,
    pub extra: Extra,
}

/// A trading account (trading code).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub account_id: String,
    /// A person or entity id.
    pub holder_id: String,
    pub member_id: Option<String>,
    pub account_type: Option<AccountType>,
    pub open_date: Option<NaiveDate>,
    pub status: Option<AccountStatus>,
    pub extra: Extra,
}

/// Who owns how much of an entity. A range (`share_min < share_max`) comes from sources such as
/// BODS that state bands rather than exact figures; CSV rows have `share_min == share_max`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shareholding {
    pub owner_id: String,
    pub entity_id: String,
    /// Percent, in (0, 100].
    pub share_min: f64,
    /// Percent, in (0, 100], at least `share_min`.
    pub share_max: f64,
    pub kind: ShareKind,
    pub extra: Extra,
}

impl Shareholding {
    /// The single figure used where a range must be collapsed: its midpoint.
    pub fn share_pct(&self) -> f64 {
        (self.share_min + self.share_max) / 2.0
    }
}

/// A person's role in an entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Officer {
    pub person_id: String,
    pub entity_id: String,
    pub role: OfficerRole,
    pub extra: Extra,
}

/// A tie between two persons or entities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    pub from_id: String,
    pub to_id: String,
    pub kind: RelationKind,
    pub extra: Extra,
}

/// A person authorised on an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Authorization {
    pub account_id: String,
    pub person_id: String,
    pub role: AuthRole,
    pub extra: Extra,
}

/// A contact detail or terminal fingerprint observed for a subject. `value` is normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentifierObs {
    pub subject_id: String,
    pub kind: IdentifierKind,
    pub value: String,
    /// Microseconds since the Unix epoch (UTC).
    pub first_seen: Option<i64>,
    /// Microseconds since the Unix epoch (UTC).
    pub last_seen: Option<i64>,
    pub count: Option<u64>,
    pub extra: Extra,
}

/// A fund transfer between two accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    pub transfer_id: String,
    /// Microseconds since the Unix epoch (UTC).
    pub ts: i64,
    pub from_account: String,
    pub to_account: String,
    pub amount: f64,
    pub extra: Extra,
}

/// A matched trade; both sides are known to the exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    pub trade_id: String,
    /// Microseconds since the Unix epoch (UTC).
    pub ts: i64,
    pub instrument: String,
    pub buy_account: String,
    pub sell_account: String,
    pub price: f64,
    pub volume: u64,
    pub extra: Extra,
}

/// One account's membership of a group the accounts reported themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportedGroup {
    pub group_id: String,
    pub account_id: String,
    pub reported_at: Option<NaiveDate>,
    pub extra: Extra,
}

/// One account's end-of-day position in one instrument, for one purpose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub date: NaiveDate,
    pub account_id: String,
    pub instrument: String,
    /// Long lots held.
    pub long: u64,
    /// Short lots held.
    pub short: u64,
    pub purpose: Purpose,
    pub extra: Extra,
}

/// One order event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: String,
    /// Entry time, microseconds since the Unix epoch (UTC).
    pub ts: i64,
    pub account_id: String,
    pub instrument: String,
    pub side: Side,
    pub offset: Offset,
    pub price: Option<f64>,
    /// Lots ordered, at least 1.
    pub volume: u64,
    /// Lots filled, at most `volume`.
    pub filled: u64,
    pub status: OrderStatus,
    /// When the order was cancelled (microseconds, UTC); present for cancelled orders and never
    /// before `ts`.
    pub cancel_ts: Option<i64>,
    pub purpose: Purpose,
    pub order_type: OrderType,
    pub extra: Extra,
}

impl Order {
    /// Lots left unfilled when the order was cancelled (zero unless cancelled).
    pub fn cancelled_lots(&self) -> u64 {
        if self.status == OrderStatus::Cancelled {
            self.volume - self.filled.min(self.volume)
        } else {
            0
        }
    }
}

/// A threshold in force for a product or an instrument, optionally for a range of dates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    /// A product code (`IF`) or an instrument (`IF2403`).
    pub scope: String,
    pub kind: LimitKind,
    pub value: u64,
    /// In force from this day (inclusive).
    pub from_date: Option<NaiveDate>,
    /// In force until this day (inclusive).
    pub to_date: Option<NaiveDate>,
    pub extra: Extra,
}

impl Limit {
    /// Whether the limit is in force on `date`.
    pub fn in_force(&self, date: NaiveDate) -> bool {
        self.from_date.is_none_or(|f| f <= date) && self.to_date.is_none_or(|t| date <= t)
    }
}

/// One day of the trading calendar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradingDay {
    pub date: NaiveDate,
    pub extra: Extra,
}

/// The product code of an instrument: its leading letters (`IF2403` is `IF`, `T2406` is `T`).
pub fn product_of(instrument: &str) -> &str {
    let end = instrument
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(instrument.len());
    &instrument[..end]
}

/// Any record of the contract, as stores hold them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Record {
    Member(Member),
    Person(Person),
    Entity(Entity),
    Account(Account),
    Shareholding(Shareholding),
    Officer(Officer),
    Relation(Relation),
    Authorization(Authorization),
    Identifier(IdentifierObs),
    Transfer(Transfer),
    Trade(Trade),
    ReportedGroup(ReportedGroup),
    Position(Position),
    Order(Order),
    Limit(Limit),
    TradingDay(TradingDay),
}

contract_enum!(
    /// The record tables of a store, one per file of the contract.
    Table, "table" {
        Members => "members",
        Persons => "persons",
        Entities => "entities",
        Accounts => "accounts",
        Shareholdings => "shareholdings",
        Officers => "officers",
        Relations => "relations",
        Authorizations => "authorizations",
        Identifiers => "identifiers",
        Transfers => "transfers",
        Trades => "trades",
        ReportedGroups => "reported_groups",
        Positions => "positions",
        Orders => "orders",
        Limits => "limits",
        TradingDays => "trading_days",
    }
);

impl Table {
    /// The dataset file this table is loaded from.
    pub fn file_name(self) -> String {
        format!("{}.csv", self.as_str())
    }

    /// Whether the table is one of the surveillance tapes (positions, orders, limits, the
    /// calendar), which feed the surveillance checks and not the graph.
    pub fn is_surveillance(self) -> bool {
        matches!(
            self,
            Table::Positions | Table::Orders | Table::Limits | Table::TradingDays
        )
    }
}

impl Record {
    /// The table the record belongs to.
    pub fn table(&self) -> Table {
        match self {
            Record::Member(_) => Table::Members,
            Record::Person(_) => Table::Persons,
            Record::Entity(_) => Table::Entities,
            Record::Account(_) => Table::Accounts,
            Record::Shareholding(_) => Table::Shareholdings,
            Record::Officer(_) => Table::Officers,
            Record::Relation(_) => Table::Relations,
            Record::Authorization(_) => Table::Authorizations,
            Record::Identifier(_) => Table::Identifiers,
            Record::Transfer(_) => Table::Transfers,
            Record::Trade(_) => Table::Trades,
            Record::ReportedGroup(_) => Table::ReportedGroups,
            Record::Position(_) => Table::Positions,
            Record::Order(_) => Table::Orders,
            Record::Limit(_) => Table::Limits,
            Record::TradingDay(_) => Table::TradingDays,
        }
    }

    /// The record's key within its table: its id for node files and events, and the natural key
    /// (the columns that name the relationship) for relationship files. Two rows with one key are
    /// the same fact; a second one with other content is a conflict (in one dataset) or an update
    /// (from a later dataset).
    pub fn key(&self) -> String {
        const SEP: char = '\u{1f}';
        match self {
            Record::Member(r) => r.member_id.clone(),
            Record::Person(r) => r.person_id.clone(),
            Record::Entity(r) => r.entity_id.clone(),
            Record::Account(r) => r.account_id.clone(),
            Record::Shareholding(r) => {
                format!("{}{SEP}{}{SEP}{}", r.owner_id, r.entity_id, r.kind)
            }
            Record::Officer(r) => format!("{}{SEP}{}{SEP}{}", r.person_id, r.entity_id, r.role),
            Record::Relation(r) => format!("{}{SEP}{}{SEP}{}", r.from_id, r.to_id, r.kind),
            Record::Authorization(r) => {
                format!("{}{SEP}{}{SEP}{}", r.account_id, r.person_id, r.role)
            }
            Record::Identifier(r) => format!("{}{SEP}{}{SEP}{}", r.subject_id, r.kind, r.value),
            Record::Transfer(r) => r.transfer_id.clone(),
            Record::Trade(r) => r.trade_id.clone(),
            Record::ReportedGroup(r) => format!("{}{SEP}{}", r.group_id, r.account_id),
            Record::Position(r) => format!(
                "{}{SEP}{}{SEP}{}{SEP}{}",
                r.date, r.account_id, r.instrument, r.purpose
            ),
            Record::Order(r) => r.order_id.clone(),
            Record::Limit(r) => {
                let day = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
                format!(
                    "{}{SEP}{}{SEP}{}{SEP}{}",
                    r.scope,
                    r.kind,
                    day(r.from_date),
                    day(r.to_date)
                )
            }
            Record::TradingDay(r) => r.date.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_their_contract_spellings() {
        for k in EntityKind::ALL {
            assert_eq!(k.as_str().parse::<EntityKind>(), Ok(*k));
        }
        for k in IdentifierKind::ALL {
            assert_eq!(k.to_string().parse::<IdentifierKind>(), Ok(*k));
        }
        let err = "Company".parse::<EntityKind>().unwrap_err();
        assert!(err.to_string().contains("unknown entity kind `Company`"));
        assert!(err.to_string().contains("asset_manager"));
    }

    #[test]
    fn product_codes_are_the_leading_letters() {
        assert_eq!(product_of("IF2403"), "IF");
        assert_eq!(product_of("T2406"), "T");
        assert_eq!(product_of("TL2409"), "TL");
        assert_eq!(product_of("IF"), "IF");
        assert_eq!(product_of("2403"), "");
    }

    #[test]
    fn limits_honour_their_date_range() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let l = Limit {
            scope: "IF".into(),
            kind: LimitKind::Position,
            value: 10,
            from_date: Some(d("2024-03-04")),
            to_date: Some(d("2024-03-08")),
            extra: Extra::new(),
        };
        assert!(!l.in_force(d("2024-03-03")));
        assert!(l.in_force(d("2024-03-04")));
        assert!(l.in_force(d("2024-03-08")));
        assert!(!l.in_force(d("2024-03-09")));
        let open = Limit {
            from_date: None,
            to_date: None,
            ..l
        };
        assert!(open.in_force(d("1999-01-01")));
    }

    #[test]
    fn institutions_are_the_contract_kinds() {
        let inst: Vec<_> = EntityKind::ALL
            .iter()
            .filter(|k| k.is_institution())
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            inst,
            [
                "asset_manager",
                "fund_product",
                "bank",
                "insurer",
                "securities_firm",
                "trust",
                "qfii"
            ]
        );
    }
}
