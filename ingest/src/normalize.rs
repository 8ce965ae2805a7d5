//! Normalisation of names, contact details and terminal fingerprints, so that one real-world value
//! written two ways (full-width digits, `+86` prefixes, MAC separators) becomes one string.
//!
//! Every function is pure and idempotent: normalising a normalised value returns it unchanged, so
//! values can be normalised again after a merge without drifting. That is why several functions
//! end with a second NFKC pass: removing spaces or upper-casing can bring a base letter next to a
//! combining mark that NFKC then composes, and the composed form must already be the output.

use std::net::{IpAddr, SocketAddr};

use graph_core::model::IdentifierKind;
use unicode_normalization::UnicodeNormalization;

/// A value that cannot be normalised as the kind it claims to be. The message (`not a MAC address:
/// `zz``) is meant for a rejects file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: `{value}`")]
pub struct NormalizeError {
    /// What is wrong, e.g. `not a MAC address`.
    pub reason: &'static str,
    /// The raw value, shortened when long so that one bad cell cannot flood a report.
    pub value: String,
}

impl NormalizeError {
    fn new(reason: &'static str, raw: &str) -> Self {
        const MAX_CHARS: usize = 80;
        let value = if raw.chars().count() > MAX_CHARS {
            let mut v: String = raw.chars().take(MAX_CHARS).collect();
            v.push('…');
            v
        } else {
            raw.to_owned()
        };
        Self { reason, value }
    }
}

fn nfkc(s: &str) -> String {
    s.nfkc().collect()
}

/// Invisible characters that copy-pasted registry data carries and that NFKC keeps: zero-width
/// space, word joiner and a stray byte-order mark. They would make equal names differ.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

/// Names and addresses: NFKC (full-width letters and digits become ASCII), invisible characters
/// removed, trimmed, and every run of whitespace (the ideographic space U+3000 included) folded to
/// one ASCII space.
pub fn text(s: &str) -> String {
    // Invisible characters go before NFKC: removing them afterwards could join a letter and a
    // combining mark that NFKC would then compose on a second pass.
    let visible: String = s.chars().filter(|c| !is_invisible(*c)).collect();
    let mut out = String::with_capacity(visible.len());
    for word in nfkc(&visible).split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A Chinese mobile number: 11 digits, `1` then `3`-`9`.
fn is_cn_mobile(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])
}

/// A Chinese landline written domestically: trunk `0`, a 2- or 3-digit area code and a 7- or
/// 8-digit local number.
fn is_cn_landline_with_trunk(d: &str) -> bool {
    let b = d.as_bytes();
    (10..=12).contains(&b.len()) && b[0] == b'0' && b[1] != b'0'
}

/// A Chinese landline written internationally, without the trunk `0`. Beijing's area code `10`
/// starts with `1` like a mobile number, so a leading `1` is accepted only as `10` plus 8 digits.
fn is_cn_landline_without_trunk(d: &str) -> bool {
    let b = d.as_bytes();
    match b.first() {
        Some(b'1') => b.len() == 10 && b[1] == b'0',
        Some(b'2'..=b'9') => (9..=11).contains(&b.len()),
        _ => false,
    }
}

/// Phone numbers: the ASCII digits only (after NFKC, so full-width digits count). A leading `86`
/// or `0086` country code (`+86` once the plus is dropped) is removed when what remains is a
/// Chinese mobile or landline number, and a landline then gets back its trunk `0`, so that
/// `+86 21 6123 4567` and `021-6123 4567` both become `02161234567`. Other numbers keep all their
/// digits, country code included. An error when there is no digit at all.
pub fn phone(s: &str) -> Result<String, NormalizeError> {
    let digits: String = nfkc(s).chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return Err(NormalizeError::new("not a phone number", s));
    }
    // The plus sign is not needed to recognise the prefix: no domestic mobile or trunk-prefixed
    // number starts with `86`, and the remainder must have a Chinese number's shape.
    for prefix in ["0086", "86"] {
        if let Some(rest) = digits.strip_prefix(prefix) {
            if is_cn_mobile(rest) || is_cn_landline_with_trunk(rest) {
                return Ok(rest.to_owned());
            }
            if is_cn_landline_without_trunk(rest) {
                return Ok(format!("0{rest}"));
            }
        }
    }
    Ok(digits)
}

/// MAC addresses: 12 upper-case hex digits without separators. Accepts six groups of one or two
/// hex digits (`aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF`, and macOS's `0:1b:2:..` that drops
/// leading zeros), three groups of four (`aabb.ccdd.eeff`, Cisco) and the plain 12 digits.
pub fn mac(s: &str) -> Result<String, NormalizeError> {
    let err = || NormalizeError::new("not a MAC address", s);
    let n = nfkc(s);
    let groups: Vec<&str> = n.trim().split([':', '-', '.', ' ']).collect();
    if !groups
        .iter()
        .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(err());
    }
    let hex = match groups.len() {
        1 if groups[0].len() == 12 => groups[0].to_owned(),
        3 if groups.iter().all(|g| g.len() == 4) => groups.concat(),
        6 if groups.iter().all(|g| (1..=2).contains(&g.len())) => {
            groups.iter().map(|g| format!("{g:0>2}")).collect()
        }
        _ => return Err(err()),
    };
    Ok(hex.to_ascii_uppercase())
}

/// E-mail addresses: NFKC, lower-case, trimmed. An error unless there is text on both sides of an
/// `@`.
pub fn email(s: &str) -> Result<String, NormalizeError> {
    // NFKC again after lower-casing, in case lower-casing produced a decomposable sequence.
    let v = nfkc(&nfkc(s).to_lowercase()).trim().to_owned();
    match v.split_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => Ok(v),
        _ => Err(NormalizeError::new("not an e-mail address", s)),
    }
}

/// IP addresses: parsed as IPv4 or IPv6 and printed canonically (`::ffff:1.2.3.4` becomes
/// `1.2.3.4`, IPv6 in its shortest form). A port (`1.2.3.4:5678`, `[::1]:80`) is dropped, since
/// logs often carry one and it says nothing about the terminal.
pub fn ip(s: &str) -> Result<String, NormalizeError> {
    let n = nfkc(s);
    let t = n.trim();
    let addr = t
        .parse::<IpAddr>()
        .ok()
        .or_else(|| t.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            t.strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|r| r.parse::<IpAddr>().ok())
        })
        .ok_or_else(|| NormalizeError::new("not an IP address", s))?;
    Ok(addr.to_canonical().to_string())
}

/// Removes every whitespace character, upper-cases ASCII letters and re-composes (see the module
/// doc for why the last NFKC pass).
fn compact_upper(s: &str) -> String {
    let v: String = nfkc(s)
        .chars()
        .filter(|c| !c.is_whitespace() && !is_invisible(*c))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    nfkc(&v)
}

/// PRC identity numbers: NFKC (full-width digits), all spaces removed, `x` upper-cased. The check
/// digit is not verified here (see [`crate::checks`]); masked numbers keep their `*`.
pub fn id_number(s: &str) -> String {
    compact_upper(s)
}

/// Unified social credit codes: NFKC, spaces removed, upper-cased. Not checked here (see
/// [`crate::checks`]).
pub fn uscc(s: &str) -> String {
    compact_upper(s)
}

/// Normalises an observed identifier by its kind: phone, e-mail, IP and MAC by their own rules;
/// addresses and device names with [`text`]; bank accounts with [`text`] then spaces and dashes
/// removed and letters upper-cased (IBAN-style accounts carry letters); disk serials with [`text`]
/// and upper-cased. An error when the value does not parse as its kind or is empty once
/// normalised.
pub fn identifier(kind: IdentifierKind, raw: &str) -> Result<String, NormalizeError> {
    let v = match kind {
        IdentifierKind::Phone => return phone(raw),
        IdentifierKind::Email => return email(raw),
        IdentifierKind::Ip => return ip(raw),
        IdentifierKind::Mac => return mac(raw),
        IdentifierKind::Address | IdentifierKind::DeviceName => text(raw),
        IdentifierKind::BankAccount => {
            let v: String = text(raw)
                .chars()
                .filter(|c| !matches!(c, ' ' | '-'))
                .map(|c| c.to_ascii_uppercase())
                .collect();
            nfkc(&v)
        }
        IdentifierKind::DiskSerial => text(&text(raw).to_ascii_uppercase()),
    };
    if v.is_empty() {
        return Err(NormalizeError::new("empty value", raw));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Writes ASCII digits as their full-width forms (U+FF10..U+FF19).
    fn full_width(s: &str) -> String {
        s.chars()
            .map(|c| match c.to_digit(10) {
                Some(d) => char::from_u32(0xFF10 + d).unwrap(),
                None => c,
            })
            .collect()
    }

    #[test]
    fn text_folds_whitespace_and_width() {
        assert_eq!(
            text("  上海市\u{3000}\u{3000}浦东新区\t世纪大道 100号 "),
            "上海市 浦东新区 世纪大道 100号"
        );
        assert_eq!(text("ＡＢＣ　有限公司"), "ABC 有限公司");
        assert_eq!(text("Zhang\u{200B}San"), "ZhangSan");
        assert_eq!(text(" \n\t "), "");
    }

    #[test]
    fn phone_examples() {
        assert_eq!(phone("+86 138-0013-8000").unwrap(), "13800138000");
        assert_eq!(phone("86 13800138000").unwrap(), "13800138000");
        assert_eq!(phone("0086 138 0013 8000").unwrap(), "13800138000");
        assert_eq!(phone("(+86) 138 0013 8000").unwrap(), "13800138000");
        assert_eq!(phone("021-6123 4567").unwrap(), "02161234567");
        assert_eq!(phone("+86 21 6123 4567").unwrap(), "02161234567");
        assert_eq!(phone("+86 (0)21 6123 4567").unwrap(), "02161234567");
        assert_eq!(phone("+86 10 6552 9988").unwrap(), "01065529988");
        assert_eq!(phone("+86 851 8123 4567").unwrap(), "085181234567");
        assert_eq!(phone("１３８００１３８０００").unwrap(), "13800138000");
        // Not a Chinese number behind the 86: nothing is dropped.
        assert_eq!(phone("8612345").unwrap(), "8612345");
        assert_eq!(phone("+1 415 555 0100").unwrap(), "14155550100");
        assert_eq!(phone("95588").unwrap(), "95588");
        let e = phone("n/a").unwrap_err();
        assert_eq!(e.to_string(), "not a phone number: `n/a`");
    }

    #[test]
    fn mac_examples() {
        for s in [
            "aa:bb:cc:0d:ee:ff",
            "AA-BB-CC-0D-EE-FF",
            "aabb.cc0d.eeff",
            "AABBCC0DEEFF",
            " aa:bb:cc:d:ee:ff ",
            "ａａ：ｂｂ：ｃｃ：０ｄ：ｅｅ：ｆｆ",
        ] {
            assert_eq!(mac(s).unwrap(), "AABBCC0DEEFF", "{s}");
        }
        assert_eq!(
            mac("zz").unwrap_err().to_string(),
            "not a MAC address: `zz`"
        );
        for bad in [
            "",
            "aa:bb:cc:dd:ee",
            "aabbccddeeff00",
            "aa:bbc:cd:de:ef:f",
            "gg:bb:cc:dd:ee:ff",
            "aa::bb:cc:dd:ee",
        ] {
            assert!(mac(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn email_ip_ids() {
        assert_eq!(
            email("  Zhang.San@Example.COM ").unwrap(),
            "zhang.san@example.com"
        );
        assert_eq!(
            email("ｚｓ＠ｅｘａｍｐｌｅ．ｃｎ").unwrap(),
            "zs@example.cn"
        );
        assert!(email("zhang.example.com").is_err());
        assert!(email("@example.com").is_err());
        assert_eq!(ip(" 10.0.0.1 ").unwrap(), "10.0.0.1");
        assert_eq!(
            ip("2001:0DB8:0000:0000:0000:0000:0000:0001").unwrap(),
            "2001:db8::1"
        );
        assert_eq!(ip("::ffff:192.168.1.9").unwrap(), "192.168.1.9");
        assert_eq!(ip("192.168.1.9:50123").unwrap(), "192.168.1.9");
        assert_eq!(ip("[2001:db8::1]:443").unwrap(), "2001:db8::1");
        assert_eq!(ip("[2001:db8::1]").unwrap(), "2001:db8::1");
        assert_eq!(
            ip("256.1.1.1").unwrap_err().to_string(),
            "not an IP address: `256.1.1.1`"
        );
        assert_eq!(
            id_number(" １１０１０５ 19491231002x "),
            "11010519491231002X"
        );
        assert_eq!(id_number("310101********1234"), "310101********1234");
        // Removing a space or upper-casing can join a letter and a combining mark; the composed
        // form must already be the output, or a second pass would change it.
        assert_eq!(id_number("i\u{307}"), "\u{130}");
        assert_eq!(uscc("e \u{200B}\u{307}"), "\u{116}");
        assert_eq!(uscc(" 91350100m000100y43\u{3000}"), "91350100M000100Y43");
    }

    #[test]
    fn identifier_dispatches_by_kind() {
        use IdentifierKind::*;
        assert_eq!(
            identifier(Phone, "+86 138 0013 8000").unwrap(),
            "13800138000"
        );
        assert_eq!(
            identifier(Mac, "aa-bb-cc-dd-ee-ff").unwrap(),
            "AABBCCDDEEFF"
        );
        assert_eq!(
            identifier(Address, "北京市\u{3000}海淀区  中关村"),
            Ok("北京市 海淀区 中关村".to_owned())
        );
        assert_eq!(
            identifier(BankAccount, "6222 0202-0001 2345 678").unwrap(),
            "6222020200012345678"
        );
        assert_eq!(
            identifier(BankAccount, "gb82 west 1234 5698 7654 32").unwrap(),
            "GB82WEST12345698765432"
        );
        assert_eq!(
            identifier(DiskSerial, " wd-wcc4e1234567 ").unwrap(),
            "WD-WCC4E1234567"
        );
        assert_eq!(
            identifier(DeviceName, "DESKTOP-ABC  ").unwrap(),
            "DESKTOP-ABC"
        );
        assert_eq!(identifier(Ip, "10.1.2.3").unwrap(), "10.1.2.3");
        assert_eq!(identifier(Email, "A@B.cn").unwrap(), "a@b.cn");
        let e = identifier(Address, "\u{3000} ").unwrap_err();
        assert_eq!(e.reason, "empty value");
    }

    #[test]
    fn long_values_are_shortened_in_errors() {
        let e = mac(&"z".repeat(10_000)).unwrap_err();
        assert_eq!(e.value.chars().count(), 81);
        assert!(e.value.ends_with('…'));
    }

    fn mac_format() -> impl Strategy<Value = (u64, usize, bool)> {
        (0u64..(1 << 48), 0usize..5, any::<bool>())
    }

    fn format_mac(v: u64, style: usize, lower: bool) -> String {
        let b: Vec<String> = (0..6)
            .rev()
            .map(|i| format!("{:02X}", (v >> (8 * i)) & 0xFF))
            .collect();
        let s = match style {
            0 => b.join(":"),
            1 => b.join("-"),
            2 => format!("{}{}.{}{}.{}{}", b[0], b[1], b[2], b[3], b[4], b[5]),
            3 => b.concat(),
            _ => b
                .iter()
                .map(|g| g.trim_start_matches('0'))
                .map(|g| if g.is_empty() { "0" } else { g })
                .collect::<Vec<_>>()
                .join(":"),
        };
        if lower { s.to_lowercase() } else { s }
    }

    /// Arbitrary text, or text drawn from characters that interact under NFKC, case mapping and
    /// space removal (combining marks, Hangul jamo, ligatures, full-width forms, odd spaces), which
    /// arbitrary text rarely puts side by side.
    fn tricky() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,24}",
            "[aeiIwxX@.:1 \t\u{301}\u{307}\u{30A}\u{309A}\u{3000}\u{00A0}\u{200B}\u{FEFF}\u{0130}\u{212A}\u{FB01}\u{017F}\u{FF58}\u{FF11}\u{1100}\u{1161}\u{11A8}\u{AC00}-]{0,16}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn every_kind_is_idempotent(s in tricky(), k in 0usize..IdentifierKind::ALL.len()) {
            let kind = IdentifierKind::ALL[k];
            if let Ok(v) = identifier(kind, &s) {
                prop_assert_eq!(identifier(kind, &v), Ok(v), "kind {}", kind);
            }
        }

        #[test]
        fn text_ids_email_are_idempotent(s in tricky()) {
            let t = text(&s);
            prop_assert_eq!(text(&t), t.as_str());
            prop_assert!(!t.starts_with(' ') && !t.ends_with(' ') && !t.contains("  "));
            prop_assert!(t.chars().all(|c| c == ' ' || !c.is_whitespace()));
            let i = id_number(&s);
            prop_assert_eq!(id_number(&i), i);
            let u = uscc(&s);
            prop_assert_eq!(uscc(&u), u);
            if let Ok(e) = email(&s) {
                prop_assert_eq!(email(&e), Ok(e));
            }
        }

        /// Arbitrary whitespace of many kinds, including U+3000, folds to single ASCII spaces.
        #[test]
        fn text_folds_any_whitespace(
            words in prop::collection::vec("[a-z中文]{1,4}", 1..5),
            seps in prop::collection::vec("[ \t\n\u{3000}\u{00A0}\u{2003}]{1,3}", 5),
        ) {
            let mut s = String::from(seps[4].as_str());
            for (i, w) in words.iter().enumerate() {
                s.push_str(w);
                s.push_str(&seps[i]);
            }
            prop_assert_eq!(text(&s), words.join(" "));
        }

        #[test]
        fn mac_formats_are_equivalent((v, style, lower) in mac_format()) {
            let m = mac(&format_mac(v, style, lower)).unwrap();
            prop_assert_eq!(&m, &format!("{v:012X}"));
            prop_assert_eq!(mac(&m).unwrap(), m);
        }

        #[test]
        fn mobile_prefixes_are_dropped(
            second in 3u8..10,
            rest in "[0-9]{9}",
            prefix in prop::sample::select(vec!["", "+86", "+86 ", "0086", "0086-", "86", "86 ", "(+86)"]),
            sep in prop::sample::select(vec!["", " ", "-"]),
            wide in any::<bool>(),
        ) {
            let mobile = format!("1{second}{rest}");
            let (a, b, c) = (&mobile[..3], &mobile[3..7], &mobile[7..]);
            let written = format!("{prefix}{a}{sep}{b}{sep}{c}");
            let written = if wide { full_width(&written) } else { written };
            prop_assert_eq!(phone(&written).unwrap(), mobile);
        }

        #[test]
        fn landline_prefixes_restore_the_trunk_zero(
            area in "(2[0-9]|[3-9][1-9][0-9])",
            local in "[2-8][0-9]{6,7}",
            prefix in prop::sample::select(vec!["+86 ", "0086 ", "86-", "+86 (0)"]),
        ) {
            let domestic = format!("0{area}{local}");
            prop_assert_eq!(phone(&format!("0{area}-{local}")).unwrap(), domestic.as_str());
            prop_assert_eq!(phone(&format!("{prefix}{area} {local}")).unwrap(), domestic);
        }

        #[test]
        fn phone_is_idempotent(s in "[+0-9 ()-]{1,20}") {
            if let Ok(p) = phone(&s) {
                prop_assert!(p.bytes().all(|b| b.is_ascii_digit()));
                prop_assert_eq!(phone(&p), Ok(p));
            }
        }

        #[test]
        fn full_width_digits_become_ascii(d in "[0-9]{1,18}") {
            let wide = full_width(&d);
            prop_assert_eq!(text(&wide), d.as_str());
            prop_assert_eq!(id_number(&wide), d.as_str());
            prop_assert_eq!(uscc(&wide), d.as_str());
            let account = identifier(IdentifierKind::BankAccount, &wide);
            prop_assert_eq!(account, Ok(d.clone()));
            prop_assert_eq!(phone(&wide), phone(&d));
        }

        #[test]
        fn ip_round_trips(v4 in any::<[u8; 4]>(), v6 in any::<[u16; 8]>()) {
            let a = std::net::Ipv4Addr::from(v4).to_string();
            prop_assert_eq!(ip(&a), Ok(a));
            let b = IpAddr::from(std::net::Ipv6Addr::from(v6));
            let canon = b.to_canonical().to_string();
            prop_assert_eq!(ip(&b.to_string()), Ok(canon.clone()));
            prop_assert_eq!(ip(&canon), Ok(canon));
        }
    }
}
