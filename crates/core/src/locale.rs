//! Interface languages. Chinese (zh-CN) is the default: it is the working
//! language of the agents Homedesk is built for; English is complete beside it.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Error;

/// A language the interface is written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "Locale.ts")]
pub enum Locale {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    /// The BCP 47 tags accepted by [`Locale::from_str`], in display order.
    pub const TAGS: [&'static str; 2] = ["zh-CN", "en"];

    /// The BCP 47 tag, as used in `<html lang>` and in settings.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }
}

/// Tags that mean Traditional Chinese, which we do not ship yet.
const TRADITIONAL_MARKERS: [&str; 4] = ["hant", "tw", "hk", "mo"];

impl FromStr for Locale {
    type Err = Error;

    /// Reads a language tag. Region and script variants of the two languages
    /// (`zh`, `zh_CN`, `zh-Hans`, `en-US`, …) are accepted; anything else is
    /// an [`Error::UnknownLocale`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let normalized = s.trim().replace('_', "-").to_ascii_lowercase();
        let language = normalized.split('-').next().unwrap_or_default();
        match language {
            "zh" if !TRADITIONAL_MARKERS.iter().any(|m| normalized.contains(m)) => Ok(Locale::ZhCn),
            "en" => Ok(Locale::En),
            _ => Err(Error::UnknownLocale(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_the_default() {
        assert_eq!(Locale::default(), Locale::ZhCn);
    }

    #[test]
    fn accepts_common_spellings_of_both_languages() {
        for tag in ["zh-CN", "zh", "zh_CN", "ZH-cn", "zh-Hans"] {
            assert_eq!(tag.parse::<Locale>().ok(), Some(Locale::ZhCn), "{tag}");
        }
        for tag in ["en", "en-US", "en_GB", " EN "] {
            assert_eq!(tag.parse::<Locale>().ok(), Some(Locale::En), "{tag}");
        }
    }

    #[test]
    fn refuses_languages_we_do_not_ship() {
        // Traditional Chinese is not the same UI text; we must not pretend it is.
        for tag in ["fr", "", "zh-TW", "zh-HK", "zh-Hant", "english", "<script>"] {
            assert!(
                matches!(tag.parse::<Locale>(), Err(Error::UnknownLocale(_))),
                "{tag:?} must be refused"
            );
        }
    }

    #[test]
    fn tag_round_trips_through_serde() {
        for locale in [Locale::ZhCn, Locale::En] {
            let json = serde_json::to_string(&locale).expect("serializes");
            assert_eq!(json, format!("\"{}\"", locale.tag()));
            assert_eq!(
                serde_json::from_str::<Locale>(&json).expect("parses"),
                locale
            );
        }
    }
}
