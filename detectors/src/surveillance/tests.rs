//! Every rule on small hand-made tapes, and the invariants as properties.

use graph_core::model::{Extra, OrderType, Side};
use proptest::prelude::*;

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Microseconds of a time on a day, exchange time.
fn ts(day: &str, hms: &str) -> i64 {
    ingest_free_ts(&format!("{day}T{hms}+08:00"))
}

fn ingest_free_ts(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .timestamp_micros()
}

fn group(id: &str, accounts: &[&str]) -> CheckedGroup {
    CheckedGroup {
        id: id.into(),
        source: GroupSource::Detected,
        accounts: accounts.iter().map(|a| a.to_string()).collect(),
    }
}

fn pos(
    day: &str,
    account: &str,
    instrument: &str,
    long: u64,
    short: u64,
    purpose: Purpose,
) -> Position {
    Position {
        date: d(day),
        account_id: account.into(),
        instrument: instrument.into(),
        long,
        short,
        purpose,
        extra: Extra::new(),
    }
}

fn limit(scope: &str, kind: LimitKind, value: u64) -> Limit {
    Limit {
        scope: scope.into(),
        kind,
        value,
        from_date: None,
        to_date: None,
        extra: Extra::new(),
    }
}

fn order(id: &str, account: &str, instrument: &str, volume: u64, filled: u64) -> Order {
    Order {
        order_id: id.into(),
        ts: ts("2024-03-04", "09:30:00"),
        account_id: account.into(),
        instrument: instrument.into(),
        side: Side::Buy,
        offset: Offset::Open,
        price: Some(3500.0),
        volume,
        filled,
        status: if filled == volume {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        },
        cancel_ts: None,
        purpose: Purpose::Speculation,
        order_type: OrderType::Limit,
        extra: Extra::new(),
    }
}

fn cancelled(id: &str, account: &str, instrument: &str, volume: u64) -> Order {
    Order {
        status: OrderStatus::Cancelled,
        cancel_ts: Some(ts("2024-03-04", "09:30:01")),
        ..order(id, account, instrument, volume, 0)
    }
}

fn trade(id: &str, buy: &str, sell: &str, instrument: &str) -> Trade {
    Trade {
        trade_id: id.into(),
        ts: ts("2024-03-04", "10:00:00"),
        instrument: instrument.into(),
        buy_account: buy.into(),
        sell_account: sell.into(),
        price: 3500.0,
        volume: 1,
        extra: Extra::new(),
    }
}

fn run(
    groups: &[CheckedGroup],
    positions: &[Position],
    orders: &[Order],
    trades: &[Trade],
    limits: &[Limit],
) -> Vec<Breach> {
    check(
        groups,
        &Tapes {
            positions,
            orders,
            trades,
            limits,
        },
    )
}

fn sp() -> Purpose {
    Purpose::Speculation
}

#[test]
fn positions_add_up_one_side_at_a_time_without_netting() {
    let g = [group("G1", &["A", "B"])];
    let positions = [
        pos("2024-03-04", "A", "IF2403", 700, 0, sp()),
        // B is short as much as A is long: netting would hide the group's long side.
        pos("2024-03-04", "B", "IF2403", 600, 700, sp()),
    ];
    let limits = [limit("IF", LimitKind::Position, 1200)];
    let b = run(&g, &positions, &[], &[], &limits);
    assert_eq!(b.len(), 1, "{b:#?}");
    let x = &b[0];
    assert_eq!(x.kind, BreachKind::PositionLong);
    assert_eq!(
        (x.figure, x.limit, x.scope.as_str()),
        (1300, 1200, "IF2403")
    );
    assert_eq!(x.limit_scope, "IF");
    assert!(x.only_as_group, "700 and 600 each stay within 1200");
    let parts: Vec<_> = x
        .parts
        .iter()
        .map(|p| (p.account.as_str(), p.share))
        .collect();
    assert_eq!(parts, [("A", 700), ("B", 600)]);
}

#[test]
fn position_limit_is_exceeded_not_reached() {
    let g = [group("G1", &["A", "B"])];
    let limits = [limit("IF", LimitKind::Position, 1200)];
    let at = [
        pos("2024-03-04", "A", "IF2403", 600, 0, sp()),
        pos("2024-03-04", "B", "IF2403", 600, 0, sp()),
    ];
    assert!(run(&g, &at, &[], &[], &limits).is_empty());
    let over = [
        pos("2024-03-04", "A", "IF2403", 600, 0, sp()),
        pos("2024-03-04", "B", "IF2403", 601, 0, sp()),
    ];
    assert_eq!(run(&g, &over, &[], &[], &limits).len(), 1);
}

#[test]
fn hedging_arbitrage_and_market_making_positions_are_exempt() {
    let g = [group("G1", &["A", "B"])];
    let limits = [limit("IF", LimitKind::Position, 1000)];
    let positions = [
        pos("2024-03-04", "A", "IF2403", 900, 0, sp()),
        pos("2024-03-04", "A", "IF2403", 5000, 0, Purpose::Hedging),
        pos("2024-03-04", "B", "IF2403", 5000, 0, Purpose::Arbitrage),
        pos("2024-03-04", "B", "IF2403", 5000, 0, Purpose::MarketMaking),
    ];
    assert!(run(&g, &positions, &[], &[], &limits).is_empty());
}

#[test]
fn an_instrument_row_overrides_its_product_and_dates_are_honoured() {
    let g = [group("G1", &["A", "B"])];
    let positions = [
        pos("2024-03-04", "A", "IF2403", 300, 0, sp()),
        pos("2024-03-04", "B", "IF2403", 300, 0, sp()),
        pos("2024-03-04", "A", "IF2406", 300, 0, sp()),
        pos("2024-03-04", "B", "IF2406", 300, 0, sp()),
        pos("2024-03-11", "A", "IF2403", 300, 0, sp()),
        pos("2024-03-11", "B", "IF2403", 300, 0, sp()),
    ];
    let limits = [
        limit("IF", LimitKind::Position, 1200),
        // The front month in its last week: a tighter limit for one instrument, for a while.
        Limit {
            from_date: Some(d("2024-03-01")),
            to_date: Some(d("2024-03-08")),
            ..limit("IF2403", LimitKind::Position, 500)
        },
    ];
    let b = run(&g, &positions, &[], &[], &limits);
    assert_eq!(b.len(), 1, "{b:#?}");
    assert_eq!(
        (b[0].scope.as_str(), b[0].date),
        ("IF2403", d("2024-03-04"))
    );
    assert_eq!((b[0].limit, b[0].limit_scope.as_str()), (500, "IF2403"));
    // A limit for another product or instrument does not apply.
    let other = [
        limit("IC", LimitKind::Position, 1),
        limit("IF2406", LimitKind::Position, 1),
    ];
    assert!(run(&g, &positions[..2], &[], &[], &other).is_empty());
}

#[test]
fn a_group_breaching_with_one_account_over_alone_is_not_only_as_a_group_and_comes_later() {
    let g = [group("G1", &["A", "B"]), group("G2", &["C", "D"])];
    let positions = [
        pos("2024-03-04", "A", "IF2403", 1300, 0, sp()),
        pos("2024-03-04", "B", "IF2403", 100, 0, sp()),
        pos("2024-03-04", "C", "IF2403", 700, 0, sp()),
        pos("2024-03-04", "D", "IF2403", 700, 0, sp()),
    ];
    let limits = [limit("IF", LimitKind::Position, 1200)];
    let b = run(&g, &positions, &[], &[], &limits);
    assert_eq!(b.len(), 2);
    assert_eq!((b[0].group_id.as_str(), b[0].only_as_group), ("G2", true));
    assert_eq!((b[1].group_id.as_str(), b[1].only_as_group), ("G1", false));
}

#[test]
fn opening_adds_speculative_lots_opened_per_product_and_day() {
    let g = [group("G1", &["A", "B"])];
    let mut close = order("O4", "B", "IF2406", 400, 400);
    close.offset = Offset::Close;
    let mut hedge = order("O5", "B", "IF2406", 400, 400);
    hedge.purpose = Purpose::Hedging;
    let mut next_day = order("O6", "B", "IF2403", 400, 400);
    next_day.ts = ts("2024-03-05", "09:31:00");
    let orders = [
        order("O1", "A", "IF2403", 300, 300),
        // Opened lots are the filled ones, across the product's instruments.
        order("O2", "B", "IF2406", 300, 200),
        order("O3", "A", "IC2403", 900, 900),
        close,
        hedge,
        next_day,
    ];
    let limits = [limit("IF", LimitKind::Opening, 499)];
    let b = run(&g, &[], &orders, &[], &limits);
    assert_eq!(b.len(), 1, "{b:#?}");
    assert_eq!(b[0].kind, BreachKind::Opening);
    assert_eq!(
        (b[0].scope.as_str(), b[0].figure, b[0].limit),
        ("IF", 500, 499)
    );
    assert!(b[0].only_as_group);
    let at = [limit("IF", LimitKind::Opening, 500)];
    assert!(
        run(&g, &[], &orders, &[], &at).is_empty(),
        "500 does not exceed 500"
    );
}

#[test]
fn an_instrument_opening_row_limits_that_instrument_alone_beside_the_product_total() {
    let g = [group("G1", &["A", "B"])];
    let orders = [
        order("O1", "A", "IF2412", 150, 150),
        order("O2", "B", "IF2412", 100, 100),
        order("O3", "B", "IF2403", 300, 300),
    ];
    // IF2412: 250 opened against its own row of 200; IF: 550 against the product's 1000.
    let limits = [
        limit("IF", LimitKind::Opening, 1000),
        limit("IF2412", LimitKind::Opening, 200),
    ];
    let b = run(&g, &[], &orders, &[], &limits);
    assert_eq!(b.len(), 1, "{b:#?}");
    assert_eq!(
        (b[0].kind, b[0].scope.as_str(), b[0].figure, b[0].limit),
        (BreachKind::Opening, "IF2412", 250, 200)
    );
    assert!(b[0].only_as_group);
    // The product's limit still applies to the product's total, the instrument's lots included.
    let tight = [
        limit("IF", LimitKind::Opening, 500),
        limit("IF2412", LimitKind::Opening, 200),
    ];
    let b = run(&g, &[], &orders, &[], &tight);
    let scopes: Vec<(&str, u64)> = b.iter().map(|x| (x.scope.as_str(), x.figure)).collect();
    assert_eq!(scopes.len(), 2, "{b:#?}");
    assert!(scopes.contains(&("IF", 550)) && scopes.contains(&("IF2412", 250)));
}

#[test]
fn self_trades_count_between_two_accounts_or_within_one_and_reach_the_threshold() {
    let g = [group("G1", &["A", "B"])];
    let trades = [
        trade("T1", "A", "B", "T2406"),
        trade("T2", "B", "A", "T2406"),
        trade("T3", "A", "A", "T2406"),
        trade("T4", "A", "B", "T2406"),
        // With an outsider, or in another contract: not self-trades of this contract.
        trade("T5", "A", "X", "T2406"),
        trade("T6", "A", "B", "T2409"),
    ];
    let five = [limit("T", LimitKind::SelfTrade, 5)];
    assert!(run(&g, &[], &[], &trades, &five).is_empty());
    let four = [limit("T", LimitKind::SelfTrade, 4)];
    let b = run(&g, &[], &[], &trades, &four);
    assert_eq!(b.len(), 1, "{b:#?}");
    assert_eq!(
        (b[0].kind, b[0].figure, b[0].scope.as_str()),
        (BreachKind::SelfTrade, 4, "T2406")
    );
    assert!(b[0].only_as_group, "A alone traded with itself once");
    let a = b[0].parts.iter().find(|p| p.account == "A").unwrap();
    assert_eq!((a.share, a.alone), (3, 1));
    let shares: u64 = b[0].parts.iter().map(|p| p.share).sum();
    assert_eq!(shares, 4);
    let one = [limit("T", LimitKind::SelfTrade, 1)];
    let b = run(&g, &[], &[], &trades, &one);
    let t2406 = b.iter().find(|x| x.scope == "T2406").unwrap();
    assert!(
        !t2406.only_as_group,
        "A's trade with itself reaches 1 alone"
    );
}

#[test]
fn cancellations_leave_out_fok_fak_hedging_and_market_making() {
    let g = [group("G1", &["A", "B"])];
    let mut orders = vec![
        cancelled("O1", "A", "IF2403", 10),
        cancelled("O2", "B", "IF2403", 10),
        cancelled("O3", "B", "IF2403", 10),
    ];
    for (i, tweak) in [0, 1, 2, 3].into_iter().enumerate() {
        let mut o = cancelled(&format!("X{i}"), "A", "IF2403", 10);
        match tweak {
            0 => o.order_type = OrderType::Fok,
            1 => o.order_type = OrderType::Fak,
            2 => o.purpose = Purpose::Hedging,
            _ => o.purpose = Purpose::MarketMaking,
        }
        orders.push(o);
    }
    // A filled order is no cancellation.
    orders.push(order("O9", "A", "IF2403", 10, 10));
    let limits = [limit("IF", LimitKind::Cancel, 3)];
    let b = run(&g, &[], &orders, &[], &limits);
    assert_eq!(b.len(), 1, "{b:#?}");
    assert_eq!((b[0].kind, b[0].figure), (BreachKind::Cancel, 3));
    assert!(b[0].only_as_group);
    let four = [limit("IF", LimitKind::Cancel, 4)];
    assert!(run(&g, &[], &orders, &[], &four).is_empty());
    // An arbitrage order's cancellation counts.
    let mut arb = cancelled("O10", "A", "IF2403", 10);
    arb.purpose = Purpose::Arbitrage;
    orders.push(arb);
    assert_eq!(run(&g, &[], &orders, &[], &four).len(), 1);
}

#[test]
fn large_cancellations_are_those_of_at_least_the_large_size() {
    let g = [group("G1", &["A", "B"])];
    let mut partly = cancelled("O3", "B", "IF2403", 400);
    partly.filled = 101; // 299 lots cancelled: not large
    let orders = [
        cancelled("O1", "A", "IF2403", 300),
        cancelled("O2", "B", "IF2403", 299),
        partly,
        cancelled("O4", "B", "IF2403", 500),
    ];
    let limits = [
        limit("IF", LimitKind::LargeCancel, 2),
        limit("IF", LimitKind::LargeCancelSize, 300),
    ];
    let b = run(&g, &[], &orders, &[], &limits);
    assert_eq!(b.len(), 1, "{b:#?}");
    assert_eq!(
        (b[0].kind, b[0].figure, b[0].limit),
        (BreachKind::LargeCancel, 2, 2)
    );
    // Without a size in force nothing is large.
    let no_size = [limit("IF", LimitKind::LargeCancel, 1)];
    assert!(run(&g, &[], &orders, &[], &no_size).is_empty());
}

#[test]
fn the_calendar_counts_listed_days_and_weekdays_elsewhere() {
    let weekdays = Calendar::default();
    // Friday 2024-03-01: ten trading days later is Friday 2024-03-15.
    assert_eq!(
        weekdays.nth_trading_day_after(d("2024-03-01"), 10),
        d("2024-03-15")
    );
    let listed = Calendar::new([d("2024-03-04"), d("2024-03-06"), d("2024-03-07")]);
    assert!(
        !listed.is_trading_day(d("2024-03-05")),
        "a listed span has holidays"
    );
    assert!(
        listed.is_trading_day(d("2024-03-08")),
        "after the span: weekdays"
    );
    assert_eq!(
        listed.nth_trading_day_after(d("2024-03-04"), 2),
        d("2024-03-07")
    );
}

#[test]
fn reporting_names_overdue_partly_reported_and_stale_groups() {
    let calendar = Calendar::default();
    let opened: BTreeMap<&str, NaiveDate> = [
        ("A", d("2024-02-01")),
        ("B", d("2024-02-15")),
        ("C", d("2024-02-01")),
        ("D", d("2024-03-01")), // due 2024-03-15, the 11th trading day is 2024-03-18
        ("E", d("2024-02-01")),
        ("F", d("2024-02-01")),
    ]
    .into_iter()
    .collect();
    let detected = [
        DetectedForReport {
            id: "G1".into(),
            accounts: vec!["A".into(), "B".into()],
            reported_group: None,
            missing: vec!["A".into(), "B".into()],
        },
        DetectedForReport {
            id: "G2".into(),
            accounts: vec!["C".into(), "D".into()],
            reported_group: None,
            missing: vec!["C".into(), "D".into()],
        },
        DetectedForReport {
            id: "G3".into(),
            accounts: vec!["E".into(), "F".into(), "H".into()],
            reported_group: Some("R1".into()),
            missing: vec!["H".into()],
        },
        DetectedForReport {
            id: "G4".into(),
            accounts: vec!["E".into(), "F".into()],
            reported_group: Some("R1".into()),
            missing: vec![],
        },
    ];
    let reported: BTreeMap<String, Vec<String>> = [
        ("R1".to_string(), vec!["E".to_string(), "F".to_string()]),
        ("R2".to_string(), vec!["X".to_string(), "Y".to_string()]),
    ]
    .into_iter()
    .collect();
    let linked = |a: &str, b: &str| matches!((a, b), ("E", "F") | ("F", "E"));
    let open = |a: &str| opened.get(a).copied();
    let f = reporting(
        &detected,
        &reported,
        &open,
        &linked,
        &calendar,
        d("2024-03-15"),
    );
    let kinds: Vec<_> = f.iter().map(|x| (x.kind, x.group_id.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (ReportingKind::Overdue, "G1"),
            (ReportingKind::PartlyReported, "G3"),
            (ReportingKind::Stale, "R2"),
        ],
        "G2's D is due on the 15th, not yet overdue: {f:#?}"
    );
    let g3 = &f[1];
    assert_eq!(g3.missing, ["H"]);
    assert!(g3.overdue, "H has no open date: long due");
    let later = reporting(
        &detected,
        &reported,
        &open,
        &linked,
        &calendar,
        d("2024-03-18"),
    );
    assert!(
        later
            .iter()
            .any(|x| x.group_id == "G2" && x.kind == ReportingKind::Overdue)
    );
    assert_eq!(
        later.iter().find(|x| x.group_id == "G2").unwrap().due,
        Some(d("2024-03-15"))
    );
}

#[test]
fn position_series_gives_the_group_and_its_accounts_per_day() {
    let positions = [
        pos("2024-03-04", "A", "IF2403", 700, 10, sp()),
        pos("2024-03-04", "B", "IF2403", 600, 0, sp()),
        pos("2024-03-04", "B", "IF2403", 900, 0, Purpose::Hedging),
        pos("2024-03-05", "A", "IF2403", 100, 0, sp()),
        pos("2024-03-05", "X", "IF2403", 100, 0, sp()),
    ];
    let limits = [limit("IF", LimitKind::Position, 1200)];
    let s = position_series(&["A".into(), "B".into()], "IF2403", &positions, &limits);
    assert_eq!(s.len(), 2);
    assert_eq!((s[0].long, s[0].short, s[0].limit), (1300, 10, Some(1200)));
    assert_eq!(
        s[0].parts,
        [("A".to_string(), 700, 10), ("B".to_string(), 600, 0)]
    );
    assert_eq!((s[1].long, s[1].parts.len()), (100, 1));
}

/// Random tapes over a few accounts, instruments and days.
fn tapes() -> impl Strategy<Value = (Vec<Position>, Vec<Order>, Vec<Trade>)> {
    let accounts = prop::sample::select(vec!["A", "B", "C", "D"]);
    let instruments = prop::sample::select(vec!["IF2403", "IF2406", "T2406"]);
    let days = prop::sample::select(vec!["2024-03-04", "2024-03-05"]);
    let purposes = prop::sample::select(Purpose::ALL.to_vec());
    let position = (
        accounts.clone(),
        instruments.clone(),
        days.clone(),
        0u64..800,
        0u64..800,
        purposes.clone(),
    )
        .prop_map(|(a, i, day, l, s, p)| pos(day, a, i, l, s, p));
    let types = prop::sample::select(OrderType::ALL.to_vec());
    let order = (
        accounts.clone(),
        instruments.clone(),
        days.clone(),
        1u64..500,
        0u64..=100,
        any::<bool>(),
        any::<bool>(),
        purposes,
        types,
    )
        .prop_map(|(a, i, day, vol, pct, open, cancel, p, t)| {
            let filled = vol * pct / 100;
            let mut o = order("O", a, i, vol, filled);
            o.ts = ts(day, "09:30:00");
            o.offset = if open { Offset::Open } else { Offset::Close };
            if cancel {
                o.status = OrderStatus::Cancelled;
                o.cancel_ts = Some(o.ts + 1);
            }
            o.purpose = p;
            o.order_type = t;
            o
        });
    let trade = (accounts.clone(), accounts, instruments, days).prop_map(|(b, s, i, day)| {
        let mut t = trade("T", b, s, i);
        t.ts = ts(day, "10:00:00");
        t
    });
    (
        prop::collection::vec(position, 0..30),
        prop::collection::vec(order, 0..40),
        prop::collection::vec(trade, 0..30),
    )
}

fn low_limits() -> Vec<Limit> {
    vec![
        limit("IF", LimitKind::Position, 500),
        limit("T2406", LimitKind::Position, 300),
        limit("IF", LimitKind::Opening, 200),
        limit("T", LimitKind::Opening, 100),
        limit("IF", LimitKind::SelfTrade, 2),
        limit("T", LimitKind::SelfTrade, 1),
        limit("IF", LimitKind::Cancel, 2),
        limit("T", LimitKind::Cancel, 3),
        limit("IF", LimitKind::LargeCancel, 1),
        limit("IF", LimitKind::LargeCancelSize, 200),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A group's figure is the sum of its accounts' shares, and for the additive kinds an
    /// account's share is what it did alone.
    #[test]
    fn a_groups_figure_is_the_sum_of_its_accounts((positions, orders, trades) in tapes()) {
        let limits: Vec<Limit> = low_limits().into_iter().map(|mut l| { if l.kind != LimitKind::LargeCancelSize { l.value = 0; } l }).collect();
        let g = [group("G", &["A", "B", "C"])];
        for b in run(&g, &positions, &orders, &trades, &limits) {
            prop_assert_eq!(b.parts.iter().map(|p| p.share).sum::<u64>(), b.figure);
            if b.kind != BreachKind::SelfTrade {
                prop_assert!(b.parts.iter().all(|p| p.share == p.alone));
            }
            prop_assert!(b.parts.iter().all(|p| p.account != "D"));
        }
        // With every limit at zero, every non-zero figure of the count kinds is a breach; the
        // group's opening figure equals the accounts' opened lots added up.
        let opened: u64 = orders.iter()
            .filter(|o| o.account_id != "D" && o.offset == Offset::Open && o.purpose == Purpose::Speculation)
            .map(|o| o.filled).sum();
        let found: u64 = run(&g, &positions, &orders, &trades, &limits).iter()
            .filter(|b| b.kind == BreachKind::Opening).map(|b| b.figure).sum();
        prop_assert_eq!(found, opened);
    }

    /// A group of one account breaches exactly when the account does on its own.
    #[test]
    fn a_group_of_one_breaches_exactly_when_its_account_does((positions, orders, trades) in tapes()) {
        let limits = low_limits();
        let b = run(&[group("G", &["A"])], &positions, &orders, &trades, &limits);
        // The account on its own, computed directly from the rules.
        let book = LimitBook::new(&limits);
        let mut expected: BTreeSet<(BreachKind, String, NaiveDate)> = BTreeSet::new();
        let mut sums: BTreeMap<(BreachKind, String, NaiveDate), u64> = BTreeMap::new();
        for p in positions.iter().filter(|p| p.account_id == "A" && p.purpose == Purpose::Speculation) {
            *sums.entry((BreachKind::PositionLong, p.instrument.clone(), p.date)).or_default() += p.long;
            *sums.entry((BreachKind::PositionShort, p.instrument.clone(), p.date)).or_default() += p.short;
        }
        for o in orders.iter().filter(|o| o.account_id == "A") {
            let day = exchange_date(o.ts);
            if o.offset == Offset::Open && o.purpose == Purpose::Speculation {
                *sums.entry((BreachKind::Opening, product_of(&o.instrument).to_owned(), day)).or_default() += o.filled;
            }
            if o.status == OrderStatus::Cancelled && !matches!(o.order_type, OrderType::Fok | OrderType::Fak)
                && !matches!(o.purpose, Purpose::Hedging | Purpose::MarketMaking) {
                *sums.entry((BreachKind::Cancel, o.instrument.clone(), day)).or_default() += 1;
                if book.resolve(LimitKind::LargeCancelSize, &o.instrument, day).is_some_and(|(s, _)| o.volume - o.filled >= s) {
                    *sums.entry((BreachKind::LargeCancel, o.instrument.clone(), day)).or_default() += 1;
                }
            }
        }
        for t in trades.iter().filter(|t| t.buy_account == "A" && t.sell_account == "A") {
            *sums.entry((BreachKind::SelfTrade, t.instrument.clone(), exchange_date(t.ts))).or_default() += 1;
        }
        for ((kind, scope, day), n) in sums {
            let lim = if kind == BreachKind::Opening {
                book.exact(LimitKind::Opening, &scope, day)
            } else {
                book.resolve(kind.limit_kind(), &scope, day).map(|(v, _)| v)
            };
            if n > 0 && lim.is_some_and(|l| kind.breached(n, l)) {
                expected.insert((kind, scope, day));
            }
        }
        let got: BTreeSet<_> = b.iter().map(|x| (x.kind, x.scope.clone(), x.date)).collect();
        prop_assert_eq!(got, expected);
        prop_assert!(b.iter().all(|x| !x.only_as_group));
    }
}
