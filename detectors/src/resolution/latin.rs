//! Company names written in Latin letters (`Hangzhou Rongxing Fund No.5`) matched to the
//! registry's Chinese names (`杭州融星稳健5号私募证券投资基金`) by their pinyin readings.
//!
//! A member's client records often carry the English or pinyin name a client gave; the registry
//! knows the company only under its Chinese name. The Latin name's distinctive words (the region
//! and the trade name, 地区 + 字号) must read, in order, as consecutive characters of the Chinese
//! name, every one of its numbers must be a number of the Chinese name, and the words that only
//! say what kind of company it is (`Fund`, `Co., Ltd.`, `Investment`) are not compared: the
//! English form drops and translates them freely. Polyphonic characters count with every reading
//! (长 reads `chang` in 长沙, `zhang` elsewhere).
//!
//! Candidates come from an index of the readings of every two consecutive Chinese characters of
//! the registry's names; a Latin word is looked up by each of its prefixes, and the word with the
//! fewest candidates chooses the ones verified.

use ahash::{AHashMap, AHashSet};
use pinyin::ToPinyinMulti;

/// Words of English and pinyin company names that say what kind of company or product it is,
/// never which one.
const GENERIC: &[&str] = &[
    "and",
    "asset",
    "assets",
    "capital",
    "china",
    "co",
    "commerce",
    "commercial",
    "company",
    "consulting",
    "corp",
    "corporation",
    "development",
    "enterprise",
    "enterprises",
    "equity",
    "fund",
    "funds",
    "futures",
    "group",
    "hedge",
    "holding",
    "holdings",
    "inc",
    "industrial",
    "industry",
    "international",
    "investment",
    "investments",
    "limited",
    "llc",
    "llp",
    "lp",
    "ltd",
    "management",
    "multi",
    "no",
    "of",
    "partners",
    "partnership",
    "plan",
    "private",
    "product",
    "quant",
    "quantitative",
    "securities",
    "strategy",
    "tech",
    "technology",
    "the",
    "trading",
    "trust",
    "venture",
    "ventures",
];

/// The least number of characters of the Chinese name the distinctive words must cover: a
/// region and a trade name of two characters each is the shortest way a Chinese company name
/// says which company it is.
const MIN_COVERED: usize = 4;

/// One comparable piece of a Latin name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A distinctive Latin word, lower case.
    Word(String),
    /// Chinese characters written as they are in a mixed name (`Xiamen 安锦 Commerce`).
    Han(Vec<char>),
}

/// A Latin name taken apart: its distinctive words in order and its numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LatinName {
    tokens: Vec<Token>,
    numbers: Vec<String>,
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
}

/// A number as compared: its digits without leading zeros.
fn number(digits: &str) -> String {
    let t = digits.trim_start_matches('0');
    if t.is_empty() { "0".into() } else { t.into() }
}

impl LatinName {
    /// Takes a name apart, or none when it is not written in Latin letters (no distinctive Latin
    /// word).
    pub(super) fn parse(name: &str) -> Option<LatinName> {
        let (mut tokens, mut numbers) = (Vec::new(), Vec::new());
        let mut chars = name.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_alphabetic() {
                let mut w = String::new();
                while let Some(&c) = chars.peek().filter(|c| c.is_ascii_alphabetic()) {
                    w.push(c.to_ascii_lowercase());
                    chars.next();
                }
                if !GENERIC.contains(&w.as_str()) {
                    tokens.push(Token::Word(w));
                }
            } else if c.is_ascii_digit() {
                let mut d = String::new();
                while let Some(&c) = chars.peek().filter(|c| c.is_ascii_digit()) {
                    d.push(c);
                    chars.next();
                }
                numbers.push(number(&d));
            } else if is_han(c) {
                let mut h = Vec::new();
                while let Some(&c) = chars.peek().filter(|c| is_han(**c)) {
                    h.push(c);
                    chars.next();
                }
                tokens.push(Token::Han(h));
            } else {
                chars.next();
            }
        }
        tokens
            .iter()
            .any(|t| matches!(t, Token::Word(_)))
            .then_some(LatinName { tokens, numbers })
    }
}

/// One character of a Chinese name as compared with Latin words.
#[derive(Debug, Clone)]
enum Unit {
    /// A Chinese character with its readings (tone marks dropped).
    Han(char, Vec<&'static str>),
    /// Any other character, ASCII lower-cased.
    Other(char),
}

/// A registry name as compared: its characters with their readings, and its numbers.
#[derive(Debug, Clone)]
pub(super) struct Reading {
    units: Vec<Unit>,
    numbers: Vec<String>,
}

impl Reading {
    /// Reads a Chinese name (already folded to simplified characters).
    pub(super) fn new(name: &str) -> Reading {
        let mut units = Vec::new();
        let mut numbers = Vec::new();
        let mut digits = String::new();
        for (c, readings) in name.chars().zip(name.to_pinyin_multi()) {
            if c.is_ascii_digit() {
                digits.push(c);
            } else if !digits.is_empty() {
                numbers.push(number(&std::mem::take(&mut digits)));
            }
            units.push(match readings {
                Some(multi) if is_han(c) => {
                    let mut r: Vec<&'static str> = multi.into_iter().map(|p| p.plain()).collect();
                    r.sort_unstable();
                    r.dedup();
                    Unit::Han(c, r)
                }
                _ => Unit::Other(c.to_ascii_lowercase()),
            });
        }
        if !digits.is_empty() {
            numbers.push(number(&digits));
        }
        Reading { units, numbers }
    }

    /// The keys this name is found under: the readings of every two consecutive Chinese
    /// characters, run together (`hangzhou`).
    pub(super) fn keys(&self) -> AHashSet<String> {
        let mut keys = AHashSet::new();
        for w in self.units.windows(2) {
            if let [Unit::Han(_, a), Unit::Han(_, b)] = w {
                for x in a {
                    for y in b {
                        keys.insert(format!("{x}{y}"));
                    }
                }
            }
        }
        keys
    }

    /// Where a Latin word read from `start` ends, if the characters from there read as it.
    fn word_end(&self, word: &str, start: usize) -> Option<usize> {
        if word.is_empty() {
            return Some(start);
        }
        match self.units.get(start)? {
            Unit::Han(_, readings) => readings.iter().find_map(|r| {
                word.strip_prefix(r)
                    .and_then(|rest| self.word_end(rest, start + 1))
            }),
            Unit::Other(c) => word
                .strip_prefix(*c)
                .and_then(|rest| self.word_end(rest, start + 1)),
        }
    }

    fn han_end(&self, han: &[char], start: usize) -> Option<usize> {
        let end = start + han.len();
        let here = self.units.get(start..end)?;
        here.iter()
            .zip(han)
            .all(|(u, c)| matches!(u, Unit::Han(h, _) if h == c))
            .then_some(end)
    }

    /// Whether the Latin name reads as this name: every distinctive token in order, on
    /// consecutive characters each, covering at least [`MIN_COVERED`] characters, and every
    /// number of the Latin name a number of this one.
    pub(super) fn matches(&self, latin: &LatinName) -> bool {
        if !latin.numbers.iter().all(|n| self.numbers.contains(n)) {
            return false;
        }
        let (mut pos, mut covered) = (0, 0);
        for token in &latin.tokens {
            let found = (pos..self.units.len()).find_map(|start| {
                let end = match token {
                    Token::Word(w) => self.word_end(w, start),
                    Token::Han(h) => self.han_end(h, start),
                }?;
                Some((start, end))
            });
            let Some((start, end)) = found else {
                return false;
            };
            covered += end - start;
            pos = end;
        }
        covered >= MIN_COVERED
    }
}

/// An index of registry names by the readings of their character pairs.
#[derive(Debug, Default)]
pub(super) struct ReadingIndex {
    by_key: AHashMap<String, Vec<u32>>,
}

impl ReadingIndex {
    pub(super) fn insert(&mut self, reading: &Reading, item: u32) {
        for key in reading.keys() {
            self.by_key.entry(key).or_default().push(item);
        }
    }

    /// The items that may read as `latin`: for the distinctive word with the fewest, every item
    /// one of its prefixes is a key of.
    pub(super) fn candidates(&self, latin: &LatinName) -> Vec<u32> {
        let mut best: Option<Vec<u32>> = None;
        for token in &latin.tokens {
            let Token::Word(w) = token else { continue };
            let mut found: Vec<u32> = (2..=w.len())
                .filter_map(|n| self.by_key.get(&w[..n]))
                .flatten()
                .copied()
                .collect();
            found.sort_unstable();
            found.dedup();
            if !found.is_empty() && best.as_ref().is_none_or(|b| found.len() < b.len()) {
                best = Some(found);
            }
        }
        best.unwrap_or_default()
    }
}

/// Folds traditional Chinese characters to simplified ones (投資 → 投资), leaving the rest.
pub(super) fn simplified(text: &str) -> String {
    if text.chars().any(is_han) {
        character_converter::traditional_to_simplified(text).into_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(latin: &str, chinese: &str) -> bool {
        Reading::new(&simplified(chinese)).matches(&LatinName::parse(latin).unwrap())
    }

    #[test]
    fn a_pinyin_name_reads_as_its_chinese_name() {
        assert!(reads(
            "Hangzhou Rongxing Fund No.5",
            "杭州融星稳健5号私募证券投资基金"
        ));
        assert!(reads(
            "Chongqing Huicheng Private Fund Management Co., Ltd. Fund",
            "重庆汇诚8号私募证券投资基金"
        ));
        assert!(reads(
            "Xiamen 安锦 Commerce Co., Ltd.",
            "厦门安锦控股有限公司"
        ));
        // 长 read as in 长沙, 西安 as two syllables.
        assert!(reads(
            "Changsha Longteng Industrial Group",
            "長沙龍騰實業集團"
        ));
        assert!(reads(
            "Xian Huiding Fund No.17",
            "西安汇鼎17号私募证券投资基金"
        ));
    }

    #[test]
    fn another_number_region_or_trade_name_does_not() {
        assert!(!reads(
            "Hangzhou Rongxing Fund No.5",
            "杭州融星稳健15号私募证券投资基金"
        ));
        assert!(!reads(
            "Hangzhou Rongxing Fund No.5",
            "上海融星稳健5号私募证券投资基金"
        ));
        assert!(!reads(
            "Hangzhou Rongxing Fund No.5",
            "杭州华星稳健5号私募证券投资基金"
        ));
        // Out of order.
        assert!(!reads("Rongxing Hangzhou Fund", "杭州融星私募证券投资基金"));
        // A region alone does not say which company.
        assert!(!reads(
            "Hangzhou Fund No.5",
            "杭州融星稳健5号私募证券投资基金"
        ));
    }

    #[test]
    fn names_in_chinese_or_generic_words_only_are_not_latin_names() {
        assert!(LatinName::parse("杭州融星稳健5号私募证券投资基金").is_none());
        assert!(LatinName::parse("Fund No.5 Co., Ltd.").is_none());
    }

    #[test]
    fn the_index_finds_a_name_by_its_rarest_word() {
        let names = [
            "杭州融星稳健5号私募证券投资基金",
            "杭州华星投资有限公司",
            "杭州通德量化5号私募证券投资基金",
        ];
        let mut index = ReadingIndex::default();
        for (i, n) in names.iter().enumerate() {
            index.insert(&Reading::new(n), i as u32);
        }
        let latin = LatinName::parse("Hangzhou Rongxing Fund No.5").unwrap();
        assert_eq!(index.candidates(&latin), vec![0]);
    }

    #[test]
    fn traditional_characters_fold_to_simplified() {
        assert_eq!(
            simplified("杭州融星稳健17号私募证券投資基金"),
            "杭州融星稳健17号私募证券投资基金"
        );
        assert_eq!(simplified("Thomas Lee"), "Thomas Lee");
    }
}
