//! Masking of personal identifiers for viewers: identity numbers (and bank accounts) keep their
//! first 6 and last 4 characters, phones their first 3 and last 4.

/// Keeps the first `head` and last `tail` characters, masking the rest with `*`.
pub fn keep(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= head + tail {
        // Too short to show both ends without revealing it all: show only the head's half.
        let shown = chars.len() / 2;
        return chars[..shown]
            .iter()
            .copied()
            .chain(std::iter::repeat_n('*', chars.len() - shown))
            .collect();
    }
    chars[..head]
        .iter()
        .copied()
        .chain(std::iter::repeat_n('*', chars.len() - head - tail))
        .chain(chars[chars.len() - tail..].iter().copied())
        .collect()
}

/// An identity number as a viewer sees it.
pub fn id_number(value: &str) -> String {
    keep(value, 6, 4)
}

/// A phone number as a viewer sees it.
pub fn phone(value: &str) -> String {
    keep(value, 3, 4)
}

/// Replaces every sensitive identifier value named in `subjects` (`phone:...`,
/// `bank_account:...`) inside `text` by its masked form.
pub fn text_with_subjects(text: &str, subjects: &[String]) -> String {
    let mut out = text.to_owned();
    for s in subjects {
        if let Some(v) = s.strip_prefix("phone:") {
            out = out.replace(v, &phone(v));
        } else if let Some(v) = s.strip_prefix("bank_account:") {
            out = out.replace(v, &id_number(v));
        }
    }
    out
}

/// A signal subject as a viewer sees it.
pub fn subject(s: &str) -> String {
    if let Some(v) = s.strip_prefix("phone:") {
        format!("phone:{}", phone(v))
    } else if let Some(v) = s.strip_prefix("bank_account:") {
        format!("bank_account:{}", id_number(v))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_numbers_keep_six_and_four() {
        assert_eq!(id_number("11010519491231002X"), "110105********002X");
    }

    #[test]
    fn phones_keep_three_and_four() {
        assert_eq!(phone("13800138000"), "138****8000");
        assert_eq!(phone("02161234567"), "021****4567");
    }

    #[test]
    fn short_values_never_show_whole() {
        assert_eq!(phone("12345"), "12***");
        assert_eq!(keep("", 3, 4), "");
    }

    #[test]
    fn subjects_in_descriptions_are_masked() {
        let t = text_with_subjects(
            "shared phone `13800138000` (used by 2 holder(s))",
            &["phone:13800138000".into()],
        );
        assert_eq!(t, "shared phone `138****8000` (used by 2 holder(s))");
    }
}
