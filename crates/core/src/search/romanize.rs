//! Pinyin for search: the toneless readings of a Chinese character (as typed
//! on a keyboard, `ü` as `v`), and splitting what an agent typed ("tuikuan")
//! into pinyin syllables.

use std::collections::HashSet;
use std::sync::LazyLock;

use pinyin::ToPinyinMulti;

/// Readings kept per character. Most characters have one; a heteronym such as
/// 行 (xing, hang) keeps its most common readings only, so a title does not
/// explode into every combination.
const MAX_READINGS: usize = 2;

/// The toneless readings of `c`, most common first; empty when `c` has none.
pub(crate) fn readings(c: char) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let Some(multi) = c.to_pinyin_multi() else {
        return out;
    };
    for reading in multi {
        let plain = keyboard_form(reading.plain());
        if !plain.is_empty() && !out.contains(&plain) {
            out.push(plain);
        }
        if out.len() == MAX_READINGS {
            break;
        }
    }
    out
}

/// `lü` → `lv`: how pinyin input methods spell ü.
fn keyboard_form(plain: &str) -> String {
    plain
        .chars()
        .map(|c| if c == 'ü' { 'v' } else { c })
        .filter(char::is_ascii_lowercase)
        .collect()
}

/// Every toneless syllable of the characters the pinyin data knows.
static SYLLABLES: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut set = HashSet::new();
    let blocks = [0x3400_u32..=0x4DBF, 0x4E00..=0x9FFF];
    for block in blocks {
        for code in block {
            if let Some(c) = char::from_u32(code) {
                set.extend(readings(c));
            }
        }
    }
    set
});

/// The longest syllable ("zhuang") has 6 letters.
const MAX_SYLLABLE_LEN: usize = 6;

/// Splits lower-case ASCII letters into pinyin syllables, using as few
/// syllables as possible ("xian" is one syllable, "tuikuan" two); `None`
/// when the letters are not pinyin.
pub(crate) fn split_syllables(letters: &str) -> Option<Vec<String>> {
    if letters.is_empty() || !letters.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let n = letters.len();
    // best[i]: fewest syllables covering letters[..i], and where the last
    // syllable starts.
    let mut best: Vec<Option<(usize, usize)>> = vec![None; n + 1];
    best[0] = Some((0, 0));
    for end in 1..=n {
        let first_start = end.saturating_sub(MAX_SYLLABLE_LEN);
        for start in first_start..end {
            let Some((count, _)) = best[start] else {
                continue;
            };
            if !SYLLABLES.contains(&letters[start..end]) {
                continue;
            }
            let better = match best[end] {
                None => true,
                Some((current, _)) => count + 1 < current,
            };
            if better {
                best[end] = Some((count + 1, start));
            }
        }
    }
    best[n]?;
    let mut syllables = Vec::new();
    let mut end = n;
    while end > 0 {
        let (_, start) = best[end]?;
        syllables.push(letters[start..end].to_owned());
        end = start;
    }
    syllables.reverse();
    Some(syllables)
}

/// Letters that start a pinyin syllable (every letter but i, u and v).
pub(crate) fn is_initial(c: char) -> bool {
    c.is_ascii_lowercase() && !matches!(c, 'i' | 'u' | 'v')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_toneless_keyboard_spellings() {
        assert_eq!(readings('退'), vec!["tui"]);
        assert_eq!(readings('款')[0], "kuan");
        assert_eq!(readings('绿')[0], "lv");
        assert!(readings('a').is_empty());
        assert!(readings('行').len() >= 2);
    }

    #[test]
    fn splits_pinyin_into_syllables() {
        assert_eq!(
            split_syllables("tuikuan"),
            Some(vec!["tui".to_owned(), "kuan".to_owned()])
        );
        assert_eq!(split_syllables("xian"), Some(vec!["xian".to_owned()]));
        assert_eq!(
            split_syllables("zhuangtai"),
            Some(vec!["zhuang".to_owned(), "tai".to_owned()])
        );
        assert_eq!(split_syllables("tk"), None);
        assert_eq!(split_syllables("refund"), None);
        assert_eq!(split_syllables(""), None);
    }
}
