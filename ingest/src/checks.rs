//! Check characters of PRC identity numbers (ISO 7064 MOD 11-2, GB 11643-1999) and unified social
//! credit codes (GB 32100-2015).
//!
//! A failed check is a recoverable defect under the contract: the row is loaded and flagged. A
//! masked identity number (`310101********1234`) is not checkable and is reported as such, not as
//! wrong.

/// What a check of an identity number or USCC found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Well formed and the check character matches.
    Valid,
    /// Masked with `*`: the shape is right but the check cannot be computed.
    Masked,
    /// Wrong length or a character outside the code's alphabet.
    Malformed,
    /// Well formed but the check character is wrong (a typo, or a made-up number).
    BadCheck,
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// The check character of the first 17 digits of a PRC resident identity number, or `None` when
/// `body` is not 17 ASCII digits.
pub fn id_number_check_char(body: &str) -> Option<char> {
    let b = body.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(ID_CHECK[(sum % 11) as usize] as char)
}

/// Checks an 18-character PRC resident identity number (upper- or lower-case `x` accepted).
pub fn check_id_number(id: &str) -> Check {
    let b = id.as_bytes();
    if b.len() != 18 {
        return Check::Malformed;
    }
    let body_ok = b[..17].iter().all(|c| c.is_ascii_digit() || *c == b'*');
    let last_ok = b[17].is_ascii_digit() || matches!(b[17], b'X' | b'x' | b'*');
    if !body_ok || !last_ok {
        return Check::Malformed;
    }
    if b.contains(&b'*') {
        return Check::Masked;
    }
    match id_number_check_char(&id[..17]) {
        Some(c) if c == (b[17] as char).to_ascii_uppercase() => Check::Valid,
        _ => Check::BadCheck,
    }
}

/// The 31 characters of GB 32100-2015 (digits and upper-case letters without I, O, S, V, Z).
const USCC_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn uscc_value(c: u8) -> Option<u32> {
    USCC_CHARS.iter().position(|x| *x == c).map(|p| p as u32)
}

/// The check character of the first 17 characters of a unified social credit code, or `None`
/// when `body` is not 17 characters of the code's alphabet.
pub fn uscc_check_char(body: &str) -> Option<char> {
    let b = body.as_bytes();
    if b.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in b.iter().zip(USCC_WEIGHTS) {
        sum += uscc_value(*c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(USCC_CHARS[check as usize] as char)
}

/// Checks an 18-character unified social credit code (upper case expected; normalise first).
pub fn check_uscc(code: &str) -> Check {
    let b = code.as_bytes();
    if b.len() != 18 || !b.iter().all(|c| uscc_value(*c).is_some()) {
        return Check::Malformed;
    }
    match uscc_check_char(&code[..17]) {
        Some(c) if c as u8 == b[17] => Check::Valid,
        _ => Check::BadCheck,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn published_examples() {
        // The worked example of GB 11643-1999.
        assert_eq!(check_id_number("11010519491231002X"), Check::Valid);
        assert_eq!(check_id_number("11010519491231002x"), Check::Valid);
        assert_eq!(check_id_number("110105194912310021"), Check::BadCheck);
        assert_eq!(check_id_number("310101********1234"), Check::Masked);
        assert_eq!(check_id_number("3101011990"), Check::Malformed);
        assert_eq!(check_id_number("31010119900307A234"), Check::Malformed);
        // The worked example of GB 32100-2015, and a published company code.
        assert_eq!(check_uscc("91350100M000100Y43"), Check::Valid);
        assert_eq!(check_uscc("91440300708461136T"), Check::Valid);
        assert_eq!(check_uscc("91350100M000100Y44"), Check::BadCheck);
        assert_eq!(check_uscc("91350100M000100Y4"), Check::Malformed);
        assert_eq!(check_uscc("91350100M000100I43"), Check::Malformed);
    }

    proptest! {
        #[test]
        fn computed_id_check_validates(body in "[0-9]{17}") {
            let c = id_number_check_char(&body).unwrap();
            prop_assert_eq!(check_id_number(&format!("{body}{c}")), Check::Valid);
        }

        /// MOD 11-2 detects every single-digit substitution.
        #[test]
        fn id_single_substitution_is_caught(body in "[0-9]{17}", pos in 0usize..17, delta in 1u8..10) {
            let c = id_number_check_char(&body).unwrap();
            let mut b = body.into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let typo = String::from_utf8(b).unwrap();
            prop_assert_eq!(check_id_number(&format!("{typo}{c}")), Check::BadCheck);
        }

        #[test]
        fn computed_uscc_check_validates(body in "[0-9A-HJ-NP-RTUW-Y]{17}") {
            let c = uscc_check_char(&body).unwrap();
            prop_assert_eq!(check_uscc(&format!("{body}{c}")), Check::Valid);
        }

        /// MOD 31 detects every single-character substitution.
        #[test]
        fn uscc_single_substitution_is_caught(body in "[0-9A-HJ-NP-RTUW-Y]{17}", pos in 0usize..17, delta in 1u32..31) {
            let c = uscc_check_char(&body).unwrap();
            let mut b = body.into_bytes();
            let v = uscc_value(b[pos]).unwrap();
            b[pos] = USCC_CHARS[((v + delta) % 31) as usize];
            let typo = String::from_utf8(b).unwrap();
            prop_assert_eq!(check_uscc(&format!("{typo}{c}")), Check::BadCheck);
        }
    }
}
