//! Characters that do not show where they stand. A name or an address carrying one can pass for
//! another that looks the same, or reorder itself on screen (U+202E, the right-to-left override,
//! shows "Ada" U+202E "nimda" as "Adaadmin"). UTS #39 §3.1 keeps them out of identifiers, and
//! UTS #55 warns of them wherever text is read as it was written.

use icu_properties::CodePointSetData;
use icu_properties::props::{DefaultIgnorableCodePoint, Emoji};

/// Unicode's Default_Ignorable_Code_Point (zero-width spaces, joiners and non-joiners, bidi
/// controls and isolates, variation selectors, the byte-order mark, Hangul fillers, tags), the
/// line and paragraph separators, and control characters.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}')
        || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
}

/// The first character of `s` that would not show: an invisible one, except the zero-width
/// joiner and the variation selectors inside an emoji sequence (a woman technologist with a
/// skin tone, a key drawn as an emoji), where they shape a picture instead of hiding between
/// letters.
pub fn hidden_in(s: &str) -> Option<char> {
    let chars: Vec<char> = s.chars().collect();
    let pictograph = |at: Option<usize>| {
        at.and_then(|i| chars.get(i)).is_some_and(|&c| {
            !c.is_ascii() && !is_invisible(c) && CodePointSetData::new::<Emoji>().contains(c)
        })
    };
    chars.iter().enumerate().find_map(|(i, &c)| {
        let before = i.checked_sub(1);
        let shapes_emoji = match c {
            '\u{FE0E}' | '\u{FE0F}' => pictograph(before),
            '\u{200D}' => {
                let after_selector = before.and_then(|b| chars.get(b)) == Some(&'\u{FE0F}');
                (pictograph(before) || after_selector) && pictograph(Some(i + 1))
            }
            _ => false,
        };
        (is_invisible(c) && !shapes_emoji).then_some(c)
    })
}

#[cfg(test)]
mod tests {
    use super::{hidden_in, is_invisible};

    #[test]
    fn zero_width_bidi_and_separator_characters_are_invisible() {
        for c in [
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{202E}',
            '\u{2066}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{2028}',
            '\u{2029}',
            '\u{00AD}',
            '\u{3164}',
            '\u{E0041}',
            '\u{0}',
        ] {
            assert!(is_invisible(c), "U+{:04X}", c as u32);
        }
        for c in ['a', ' ', 'é', 'ß', 'λ', 'ж', 'م', '李', '🗝'] {
            assert!(!is_invisible(c), "{c}");
        }
    }

    #[test]
    fn names_in_any_script_show_whole() {
        for ok in [
            "Ada Lovelace",
            "Zoë Ça-Va",
            "محمد علي",
            "李小龍",
            "Ada \u{1F5DD}\u{FE0F}",
            "\u{1F469}\u{1F3FD}\u{200D}\u{1F4BB} Ada",
            "\u{2764}\u{FE0F}\u{200D}\u{1F525}",
        ] {
            assert_eq!(hidden_in(ok), None, "{ok}");
        }
    }

    #[test]
    fn a_joiner_or_selector_outside_an_emoji_is_hidden() {
        for (bad, hidden) in [
            ("Ad\u{200B}a", '\u{200B}'),
            ("Ada\u{202E}nimda", '\u{202E}'),
            ("\u{FEFF}Ada", '\u{FEFF}'),
            ("A\u{200D}da", '\u{200D}'),
            ("Ada\u{FE0F}", '\u{FE0F}'),
            ("1\u{FE0F}", '\u{FE0F}'),
            ("🗝\u{200D}\u{200D}🗝", '\u{200D}'),
            ("🗝\u{200D}", '\u{200D}'),
        ] {
            assert_eq!(hidden_in(bad), Some(hidden), "{bad:?}");
        }
    }
}
