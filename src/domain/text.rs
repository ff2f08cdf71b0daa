//! Characters that do not show where they stand. A name or an address carrying one can pass for
//! another that looks the same, or reorder itself on screen (U+202E, the right-to-left override,
//! shows "Ada" U+202E "nimda" as "Adaadmin"). UTS #39 §3.1 keeps them out of identifiers, and
//! UTS #55 warns of them wherever text is read as it was written.

use icu_properties::CodePointSetData;
use icu_properties::props::DefaultIgnorableCodePoint;

/// Unicode's Default_Ignorable_Code_Point (zero-width spaces, joiners and non-joiners, bidi
/// controls and isolates, variation selectors, the byte-order mark, Hangul fillers, tags), the
/// line and paragraph separators, and control characters.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}')
        || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
}

#[cfg(test)]
mod tests {
    use super::is_invisible;

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
}
