//! Topic names and topic filters: validation, matching and shared-subscription syntax.
//!
//! Covers MQTT 3.1.1 section 4.7 (*Topic Names and Topic Filters*) and MQTT 5.0 sections 4.7
//! (same title) and 4.8.2 (*Shared Subscriptions*):
//!
//! * [`validate_topic_name`] and [`validate_topic_filter`] check the rules of 4.7.1 and 4.7.3
//!   (non-empty, at most 65,535 bytes, no U+0000, wildcards only in filters and only where
//!   allowed).
//! * [`SubscriptionFilter::parse`] reads a SUBSCRIBE/UNSUBSCRIBE filter as a broker must for a
//!   given protocol version: under 5.0 a filter starting with `$share/` is a shared subscription
//!   (4.8.2); under 3.1 and 3.1.1 it is an ordinary filter.
//! * [`matches`] decides whether a filter matches a topic name (4.7.1, 4.7.2), byte-exact and
//!   without allocating.
//!
//! Every error is a [`TopicError`] that can name the normative statement it breaks for a given
//! protocol version ([`TopicError::statement`]).

use std::fmt;

use crate::ProtocolVersion;

/// The longest topic name or filter, in UTF-8 bytes, that an MQTT UTF-8 string can carry.
pub const MAX_TOPIC_LEN: usize = 65_535;

/// The level separator.
const SEPARATOR: char = '/';
/// The multi-level wildcard.
const MULTI_LEVEL: &str = "#";
/// The single-level wildcard.
const SINGLE_LEVEL: &str = "+";
/// The prefix that makes a 5.0 topic filter a shared subscription.
const SHARE_PREFIX: &str = "$share/";

/// Why a topic name, topic filter or shared-subscription filter is invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicError {
    /// Zero-length topic name or filter.
    Empty,
    /// More than 65,535 bytes once UTF-8 encoded.
    TooLong,
    /// Contains the null character U+0000.
    NullCharacter,
    /// `+` or `#` anywhere in a topic name.
    WildcardInName,
    /// `#` not alone in the last level of a filter (`a/#/b`, `a#`, `#a`).
    MultiLevelWildcardNotLast,
    /// `+` sharing a level with other characters (`a+/b`, `+a`).
    SingleLevelWildcardNotAlone,
    /// Shared subscription with an empty share name (`$share//x`, `$share/`).
    EmptyShareName,
    /// Share name containing `+` or `#` (a `/` ends the share name by definition).
    InvalidShareName,
    /// Shared subscription with no filter after the share name (`$share/name`, `$share/name/`).
    SharedFilterMissing,
}

impl TopicError {
    /// The normative statement the error breaks, for that protocol version, if one is tagged.
    ///
    /// 3.1 is treated as 3.1.1. 3.1.1 has no shared subscriptions, so the share errors have
    /// no statement there.
    pub fn statement(self, version: ProtocolVersion) -> Option<&'static str> {
        use TopicError::*;
        if version.is_v5() {
            Some(match self {
                Empty => "MQTT-4.7.3-1",
                TooLong => "MQTT-4.7.3-3",
                NullCharacter => "MQTT-4.7.3-2",
                WildcardInName => "MQTT-4.7.0-1",
                MultiLevelWildcardNotLast => "MQTT-4.7.1-1",
                SingleLevelWildcardNotAlone => "MQTT-4.7.1-2",
                EmptyShareName => "MQTT-4.8.2-1",
                InvalidShareName | SharedFilterMissing => "MQTT-4.8.2-2",
            })
        } else {
            match self {
                Empty => Some("MQTT-4.7.3-1"),
                TooLong => Some("MQTT-4.7.3-3"),
                NullCharacter => Some("MQTT-4.7.3-2"),
                WildcardInName => Some("MQTT-4.7.1-1"),
                MultiLevelWildcardNotLast => Some("MQTT-4.7.1-2"),
                SingleLevelWildcardNotAlone => Some("MQTT-4.7.1-3"),
                EmptyShareName | InvalidShareName | SharedFilterMissing => None,
            }
        }
    }

    /// One-line human description of the rule that was broken.
    pub fn describe(self) -> &'static str {
        use TopicError::*;
        match self {
            Empty => "topic names and topic filters must be at least one character long",
            TooLong => "topic names and topic filters must not exceed 65,535 bytes of UTF-8",
            NullCharacter => {
                "topic names and topic filters must not contain the null character U+0000"
            }
            WildcardInName => {
                "the wildcard characters '+' and '#' must not be used in a topic name"
            }
            MultiLevelWildcardNotLast => {
                "'#' must be the last character of a topic filter, alone in its level"
            }
            SingleLevelWildcardNotAlone => "'+' must occupy an entire level of a topic filter",
            EmptyShareName => "the share name of a shared subscription must not be empty",
            InvalidShareName => {
                "the share name of a shared subscription must not contain '/', '+' or '#'"
            }
            SharedFilterMissing => {
                "a shared subscription must have a topic filter after '$share/<share name>/'"
            }
        }
    }
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

impl std::error::Error for TopicError {}

/// Checks shared by names and filters: length and characters (section 4.7.3).
fn validate_common(s: &str) -> Result<(), TopicError> {
    // MQTT-4.7.3-1: at least one character long.
    if s.is_empty() {
        return Err(TopicError::Empty);
    }
    // MQTT-4.7.3-3: no more than 65,535 bytes once UTF-8 encoded.
    if s.len() > MAX_TOPIC_LEN {
        return Err(TopicError::TooLong);
    }
    // MQTT-4.7.3-2: must not contain U+0000.
    if s.as_bytes().contains(&0) {
        return Err(TopicError::NullCharacter);
    }
    Ok(())
}

/// Validates a topic name (as carried by PUBLISH, or a Will Topic).
///
/// Empty levels are legal: `/`, `a//b` and `/a` are valid names.
#[inline]
pub fn validate_topic_name(name: &str) -> Result<(), TopicError> {
    // MQTT-4.7.3-1: at least one character long.
    if name.is_empty() {
        return Err(TopicError::Empty);
    }
    // MQTT-4.7.3-3: no more than 65,535 bytes once UTF-8 encoded.
    if name.len() > MAX_TOPIC_LEN {
        return Err(TopicError::TooLong);
    }
    // One pass for the per-byte rules (topic names are on every PUBLISH).
    let (mut nul, mut wildcard) = (false, false);
    for &b in name.as_bytes() {
        nul |= b == 0;
        wildcard |= b == b'+' || b == b'#';
    }
    // MQTT-4.7.3-2: must not contain U+0000.
    if nul {
        return Err(TopicError::NullCharacter);
    }
    // MQTT-4.7.1-1 (3.1.1) / MQTT-4.7.0-1 (5.0): no wildcard characters in a topic name.
    if wildcard {
        return Err(TopicError::WildcardInName);
    }
    Ok(())
}

/// Validates a plain topic filter (no `$share/` handling; see [`SubscriptionFilter::parse`]).
///
/// Levels are checked left to right; the first offending level decides the error.
pub fn validate_topic_filter(filter: &str) -> Result<(), TopicError> {
    validate_common(filter)?;
    let mut levels = filter.split(SEPARATOR).peekable();
    while let Some(level) = levels.next() {
        let is_last = levels.peek().is_none();
        // MQTT-4.7.1-2 (3.1.1) / MQTT-4.7.1-1 (5.0): '#' alone in its level, and that level last.
        if level.contains('#') && (level != MULTI_LEVEL || !is_last) {
            return Err(TopicError::MultiLevelWildcardNotLast);
        }
        // MQTT-4.7.1-3 (3.1.1) / MQTT-4.7.1-2 (5.0): '+' occupies an entire level.
        if level.contains('+') && level != SINGLE_LEVEL {
            return Err(TopicError::SingleLevelWildcardNotAlone);
        }
    }
    Ok(())
}

/// A SUBSCRIBE/UNSUBSCRIBE filter as the broker must read it for a protocol version.
///
/// Under 5.0 a filter starting with `$share/` is a shared subscription: `share_name` is
/// `Some` and `filter` is the topic filter after the share name. Under 3.1 and 3.1.1 (and for
/// any 5.0 filter not starting with `$share/`) `share_name` is `None` and `filter` is the
/// whole input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubscriptionFilter<'a> {
    /// The ShareName of a 5.0 shared subscription.
    pub share_name: Option<&'a str>,
    /// The topic filter to match against topic names.
    pub filter: &'a str,
}

impl<'a> SubscriptionFilter<'a> {
    /// Parses `raw` for `version`, validating the share syntax and the inner filter.
    pub fn parse(raw: &'a str, version: ProtocolVersion) -> Result<Self, TopicError> {
        let rest = match raw.strip_prefix(SHARE_PREFIX) {
            Some(rest) if version.is_v5() => rest,
            // 3.1/3.1.1, or no "$share/" prefix: an ordinary filter.
            _ => {
                validate_topic_filter(raw)?;
                return Ok(SubscriptionFilter {
                    share_name: None,
                    filter: raw,
                });
            }
        };
        // The whole string is one MQTT UTF-8 string: length and U+0000 apply to all of it.
        validate_common(raw)?;
        let (share_name, filter) = match rest.split_once(SEPARATOR) {
            Some((share_name, filter)) => (share_name, Some(filter)),
            None => (rest, None),
        };
        // MQTT-4.8.2-1: the ShareName is at least one character long.
        if share_name.is_empty() {
            return Err(TopicError::EmptyShareName);
        }
        // MQTT-4.8.2-2: the ShareName contains no '/', '+' or '#' ('/' cannot occur here: it
        // ends the share name).
        if has_wildcards(share_name) {
            return Err(TopicError::InvalidShareName);
        }
        // MQTT-4.8.2-2: the ShareName is followed by '/' and then by a Topic Filter.
        let filter = match filter {
            Some(filter) if !filter.is_empty() => filter,
            _ => return Err(TopicError::SharedFilterMissing),
        };
        validate_topic_filter(filter)?;
        Ok(SubscriptionFilter {
            share_name: Some(share_name),
            filter,
        })
    }

    /// Whether this is a (5.0) shared subscription.
    pub fn is_shared(&self) -> bool {
        self.share_name.is_some()
    }
}

/// Whether `filter` contains a wildcard character (`+` or `#`).
pub fn has_wildcards(filter: &str) -> bool {
    filter.bytes().any(|b| b == b'+' || b == b'#')
}

/// Does `filter` (a valid, non-shared filter) match topic name `name`?
///
/// Byte-exact and case-sensitive; walks both strings level by level without allocating.
/// `#` matches its parent level and any number of child levels; `+` matches exactly one
/// level, possibly empty. The result for an invalid filter is unspecified (but never panics).
pub fn matches(filter: &str, name: &str) -> bool {
    // MQTT-4.7.2-1: a filter starting with a wildcard does not match a name starting with '$'.
    if name.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut filter_levels = filter.split(SEPARATOR);
    let mut name_levels = name.split(SEPARATOR);
    loop {
        match (filter_levels.next(), name_levels.next()) {
            // '#' matches the parent level (already consumed, or none left) and all children.
            (Some(MULTI_LEVEL), _) => return true,
            // '+' matches exactly one level, including an empty one.
            (Some(SINGLE_LEVEL), Some(_)) => {}
            (Some(f), Some(n)) if f == n => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProtocolVersion::{V3_1, V3_1_1, V5};

    const ALL_ERRORS: [TopicError; 9] = [
        TopicError::Empty,
        TopicError::TooLong,
        TopicError::NullCharacter,
        TopicError::WildcardInName,
        TopicError::MultiLevelWildcardNotLast,
        TopicError::SingleLevelWildcardNotAlone,
        TopicError::EmptyShareName,
        TopicError::InvalidShareName,
        TopicError::SharedFilterMissing,
    ];

    // ----- topic names -------------------------------------------------------------------

    #[test]
    fn accepts_valid_topic_names() {
        for name in [
            "a",
            "sport/tennis/player1",
            "/",
            "//",
            "a//b",
            "/a",
            "a/",
            "$SYS/broker/load",
            "$share/g/x",
            " ",
            "ünïcödé/✓",
            "a b/c\td",
        ] {
            assert_eq!(validate_topic_name(name), Ok(()), "{name:?}");
        }
    }

    #[test]
    fn rejects_empty_topic_name() {
        assert_eq!(validate_topic_name(""), Err(TopicError::Empty));
    }

    #[test]
    fn rejects_null_character_in_name() {
        for name in ["\0", "a\0", "a/\0/b", "\0/+"] {
            assert_eq!(
                validate_topic_name(name),
                Err(TopicError::NullCharacter),
                "{name:?}"
            );
        }
    }

    #[test]
    fn rejects_wildcards_anywhere_in_name() {
        for name in [
            "+",
            "#",
            "a/+",
            "a/#",
            "+/a",
            "a+b",
            "a#",
            "sport/tennis/#",
            "$SYS/+",
        ] {
            assert_eq!(
                validate_topic_name(name),
                Err(TopicError::WildcardInName),
                "{name:?}"
            );
        }
    }

    #[test]
    fn accepts_name_of_exactly_max_length() {
        let name = "a".repeat(MAX_TOPIC_LEN);
        assert_eq!(validate_topic_name(&name), Ok(()));
    }

    #[test]
    fn rejects_name_one_byte_over_max_length() {
        let name = "a".repeat(MAX_TOPIC_LEN + 1);
        assert_eq!(validate_topic_name(&name), Err(TopicError::TooLong));
    }

    #[test]
    fn length_limit_counts_utf8_bytes_not_characters() {
        // 32,768 two-byte characters: 65,536 bytes, far fewer characters than the limit.
        let name = "é".repeat(32_768);
        assert_eq!(name.chars().count(), 32_768);
        assert_eq!(validate_topic_name(&name), Err(TopicError::TooLong));
        assert_eq!(validate_topic_filter(&name), Err(TopicError::TooLong));
        // 21,845 three-byte characters: exactly 65,535 bytes.
        let name = "✓".repeat(21_845);
        assert_eq!(name.len(), MAX_TOPIC_LEN);
        assert_eq!(validate_topic_name(&name), Ok(()));
    }

    // ----- topic filters -----------------------------------------------------------------

    #[test]
    fn accepts_valid_topic_filters() {
        for filter in [
            "a",
            "#",
            "+",
            "/",
            "a//b",
            "/a",
            "a/",
            "sport/#",
            "sport/tennis/#",
            "+/+",
            "/+",
            "+/",
            "+/tennis/#",
            "sport/+/player1",
            "+/+/#",
            "//#",
            "$SYS/#",
            "$share",
            "$share/g/x",
            "$share//x",
        ] {
            assert_eq!(validate_topic_filter(filter), Ok(()), "{filter:?}");
        }
    }

    #[test]
    fn rejects_empty_topic_filter() {
        assert_eq!(validate_topic_filter(""), Err(TopicError::Empty));
    }

    #[test]
    fn rejects_overlong_topic_filter() {
        let filter = format!("{}/#", "a".repeat(MAX_TOPIC_LEN - 1));
        assert_eq!(validate_topic_filter(&filter), Err(TopicError::TooLong));
        let filter = format!("{}/#", "a".repeat(MAX_TOPIC_LEN - 2));
        assert_eq!(validate_topic_filter(&filter), Ok(()));
    }

    #[test]
    fn rejects_null_character_in_filter() {
        for filter in ["\0", "a/\0", "\0/#", "+/\0"] {
            assert_eq!(
                validate_topic_filter(filter),
                Err(TopicError::NullCharacter),
                "{filter:?}"
            );
        }
    }

    #[test]
    fn rejects_hash_not_in_last_level() {
        for filter in [
            "a/#/b",
            "#/a",
            "#/",
            "#/#",
            "a#",
            "#a",
            "a/b#",
            "##",
            "sport/tennis#",
            "+#",
        ] {
            assert_eq!(
                validate_topic_filter(filter),
                Err(TopicError::MultiLevelWildcardNotLast),
                "{filter:?}"
            );
        }
    }

    #[test]
    fn rejects_plus_sharing_a_level() {
        for filter in [
            "a+/b", "+a", "a+", "++", "a/+b/c", "sport+", "a/b/c+", "+/a+/#",
        ] {
            assert_eq!(
                validate_topic_filter(filter),
                Err(TopicError::SingleLevelWildcardNotAlone),
                "{filter:?}"
            );
        }
    }

    #[test]
    fn first_offending_level_decides_the_filter_error() {
        assert_eq!(
            validate_topic_filter("a+/#/b"),
            Err(TopicError::SingleLevelWildcardNotAlone)
        );
        assert_eq!(
            validate_topic_filter("#/a+"),
            Err(TopicError::MultiLevelWildcardNotLast)
        );
    }

    #[test]
    fn has_wildcards_detects_plus_and_hash_only() {
        for (filter, expected) in [
            ("a/b", false),
            ("$SYS/x", false),
            ("", false),
            ("+", true),
            ("#", true),
            ("a/+/b", true),
            ("a/#", true),
            ("a+b", true),
        ] {
            assert_eq!(has_wildcards(filter), expected, "{filter:?}");
        }
    }

    // ----- shared subscriptions ----------------------------------------------------------

    #[test]
    fn parses_shared_subscription_under_v5() {
        assert_eq!(
            SubscriptionFilter::parse("$share/group/sport/#", V5),
            Ok(SubscriptionFilter {
                share_name: Some("group"),
                filter: "sport/#"
            })
        );
        let parsed = SubscriptionFilter::parse("$share/g/x", V5);
        assert_eq!(parsed.map(|s| s.is_shared()), Ok(true));
    }

    #[test]
    fn share_prefix_is_an_ordinary_filter_before_v5() {
        for version in [V3_1, V3_1_1] {
            for raw in [
                "$share/group/sport/#",
                "$share//x",
                "$share/",
                "$share/g",
                "$share/+/x",
            ] {
                let parsed = SubscriptionFilter::parse(raw, version);
                assert_eq!(
                    parsed,
                    Ok(SubscriptionFilter {
                        share_name: None,
                        filter: raw
                    }),
                    "{raw:?} {version:?}"
                );
                assert_eq!(parsed.map(|s| s.is_shared()), Ok(false));
            }
            // Ordinary filter rules still apply to the whole string.
            assert_eq!(
                SubscriptionFilter::parse("$share/g+/x", version),
                Err(TopicError::SingleLevelWildcardNotAlone)
            );
        }
    }

    #[test]
    fn non_share_filters_are_ordinary_under_v5() {
        for raw in [
            "$share",
            "$shared/x",
            "$SHARE/g/x",
            "sport/#",
            "+/$share/x",
            "$SYS/#",
        ] {
            assert_eq!(
                SubscriptionFilter::parse(raw, V5),
                Ok(SubscriptionFilter {
                    share_name: None,
                    filter: raw
                }),
                "{raw:?}"
            );
        }
        assert_eq!(SubscriptionFilter::parse("", V5), Err(TopicError::Empty));
        assert_eq!(
            SubscriptionFilter::parse("a/#/b", V5),
            Err(TopicError::MultiLevelWildcardNotLast)
        );
    }

    #[test]
    fn rejects_empty_share_name() {
        for raw in ["$share/", "$share//x", "$share//", "$share//#"] {
            assert_eq!(
                SubscriptionFilter::parse(raw, V5),
                Err(TopicError::EmptyShareName),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn rejects_share_name_with_wildcards() {
        for raw in [
            "$share/+/x",
            "$share/#/x",
            "$share/g+/x",
            "$share/a#b/x",
            "$share/+",
            "$share/#",
        ] {
            assert_eq!(
                SubscriptionFilter::parse(raw, V5),
                Err(TopicError::InvalidShareName),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn rejects_shared_subscription_without_filter() {
        for raw in ["$share/g", "$share/g/", "$share/group"] {
            assert_eq!(
                SubscriptionFilter::parse(raw, V5),
                Err(TopicError::SharedFilterMissing),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn shared_inner_filter_may_start_with_wildcard_dollar_or_slash() {
        for (raw, inner) in [
            ("$share/g/#", "#"),
            ("$share/g/+/x", "+/x"),
            ("$share/g/$SYS/#", "$SYS/#"),
            ("$share/g/$share/h/x", "$share/h/x"),
            ("$share/g//x", "/x"),
            ("$share/g//", "/"),
        ] {
            assert_eq!(
                SubscriptionFilter::parse(raw, V5),
                Ok(SubscriptionFilter {
                    share_name: Some("g"),
                    filter: inner
                }),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn shared_inner_filter_is_validated() {
        for (raw, err) in [
            ("$share/g/a/#/b", TopicError::MultiLevelWildcardNotLast),
            ("$share/g/a#", TopicError::MultiLevelWildcardNotLast),
            ("$share/g/a+", TopicError::SingleLevelWildcardNotAlone),
            ("$share/g/a\0", TopicError::NullCharacter),
            ("$share/g\0/a", TopicError::NullCharacter),
        ] {
            assert_eq!(SubscriptionFilter::parse(raw, V5), Err(err), "{raw:?}");
        }
    }

    #[test]
    fn shared_subscription_length_counts_the_whole_string() {
        let raw = format!("$share/g/{}", "a".repeat(MAX_TOPIC_LEN - 9));
        assert_eq!(raw.len(), MAX_TOPIC_LEN);
        assert!(SubscriptionFilter::parse(&raw, V5).is_ok());
        let raw = format!("$share/g/{}", "a".repeat(MAX_TOPIC_LEN - 8));
        assert_eq!(
            SubscriptionFilter::parse(&raw, V5),
            Err(TopicError::TooLong)
        );
    }

    // ----- matching ----------------------------------------------------------------------

    fn check_matches(cases: &[(&str, &str, bool)]) {
        for &(filter, name, expected) in cases {
            assert_eq!(validate_topic_filter(filter), Ok(()), "filter {filter:?}");
            assert_eq!(validate_topic_name(name), Ok(()), "name {name:?}");
            assert_eq!(matches(filter, name), expected, "{filter:?} vs {name:?}");
        }
    }

    #[test]
    fn hash_matches_parent_level() {
        check_matches(&[
            ("sport/#", "sport", true),
            ("sport/tennis/#", "sport/tennis", true),
            ("sport/tennis/#", "sport", false),
            ("a/b/#", "a", false),
        ]);
    }

    #[test]
    fn hash_matches_any_number_of_child_levels() {
        check_matches(&[
            ("sport/#", "sport/", true),
            ("sport/#", "sport/a", true),
            ("sport/#", "sport/a/b", true),
            ("sport/#", "sport/a/b/c/d", true),
            ("sport/#", "sport//", true),
            ("sport/tennis/#", "sport/tennis/player1/ranking", true),
            ("sport/#", "sports", false),
            ("sport/#", "other/sport", false),
        ]);
    }

    #[test]
    fn lone_hash_matches_everything_not_starting_with_dollar() {
        check_matches(&[
            ("#", "a", true),
            ("#", "/", true),
            ("#", "a/b/c", true),
            ("#", "/a", true),
            ("#", "a/$b", true),
            ("#", "$SYS", false),
            ("#", "$SYS/x", false),
            ("#", "$", false),
        ]);
    }

    #[test]
    fn plus_matches_exactly_one_level() {
        check_matches(&[
            ("sport/tennis/+", "sport/tennis/player1", true),
            ("sport/tennis/+", "sport/tennis/player1/ranking", false),
            ("sport/+/player1", "sport/tennis/player1", true),
            ("+", "sport", true),
            ("+", "sport/tennis", false),
            ("+/+", "a/b", true),
            ("+/+", "a/b/c", false),
            ("+/tennis/#", "sport/tennis/player1", true),
        ]);
    }

    #[test]
    fn plus_matches_an_empty_level() {
        check_matches(&[
            ("+/+", "/x", true),
            ("+/+", "x/", true),
            ("+/+", "/", true),
            ("/+", "/finance", true),
            ("/+", "/", true),
            ("a/+", "a/", true),
            ("a/+/b", "a//b", true),
        ]);
    }

    #[test]
    fn plus_does_not_match_a_separator() {
        check_matches(&[
            ("+", "/", false),
            ("+", "/finance", false),
            ("a/+", "a//", false),
        ]);
    }

    #[test]
    fn plus_requires_its_level_to_exist() {
        check_matches(&[
            ("a/+", "a", false),
            ("sport/+", "sport", false),
            ("sport/+", "sport/", true),
            ("+/+", "a", false),
        ]);
    }

    #[test]
    fn leading_wildcard_does_not_match_dollar_topics() {
        check_matches(&[
            ("#", "$SYS/x", false),
            ("+/x", "$SYS/x", false),
            ("+/#", "$SYS/x", false),
            ("+", "$SYS", false),
            ("+/+", "$SYS/x", false),
            ("+/monitor/Clients", "$SYS/monitor/Clients", false),
        ]);
    }

    #[test]
    fn explicit_dollar_filter_matches_dollar_topics() {
        check_matches(&[
            ("$SYS/#", "$SYS/x", true),
            ("$SYS/#", "$SYS", true),
            ("$SYS/+", "$SYS/a", true),
            ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
            ("$SYS", "$SYS", true),
            ("$SYS/#", "$sys/x", false),
        ]);
    }

    #[test]
    fn dollar_rule_applies_only_to_the_first_character_of_the_name() {
        check_matches(&[
            ("+/+", "a/$SYS", true),
            ("#", "a/$x", true),
            ("+/$x", "a/$x", true),
            ("#", " $SYS", true),
        ]);
    }

    #[test]
    fn matching_is_byte_exact_and_case_sensitive() {
        check_matches(&[
            ("sport", "sport", true),
            ("sport", "Sport", false),
            ("Sport/#", "sport/a", false),
            ("sport", "sport ", false),
            ("sport", " sport", false),
            ("ACCOUNTS", "accounts", false),
            // U+00E9 (precomposed) vs 'e' + U+0301 (combining): no normalisation.
            ("caf\u{e9}", "cafe\u{301}", false),
            ("caf\u{e9}", "caf\u{e9}", true),
        ]);
    }

    #[test]
    fn empty_levels_are_significant_in_matching() {
        check_matches(&[
            ("a/b", "a//b", false),
            ("a//b", "a//b", true),
            ("/a", "a", false),
            ("a", "/a", false),
            ("a/", "a", false),
            ("/", "/", true),
            ("/", "//", false),
            ("#", "//", true),
            ("/#", "/", true),
            ("/#", "a", false),
        ]);
    }

    /// A deliberately simple reference matcher over split levels: `#` consumes any number
    /// (zero or more) of the remaining levels, `+` exactly one, anything else must be equal.
    fn reference_levels(filter: &[&str], name: &[&str]) -> bool {
        match (filter, name) {
            ([], []) => true,
            (["#", rest @ ..], _) => (0..=name.len()).any(|skip| {
                name.get(skip..)
                    .is_some_and(|tail| reference_levels(rest, tail))
            }),
            (["+", f_rest @ ..], [_, n_rest @ ..]) => reference_levels(f_rest, n_rest),
            ([f, f_rest @ ..], [n, n_rest @ ..]) => f == n && reference_levels(f_rest, n_rest),
            _ => false,
        }
    }

    fn reference_matches(filter: &str, name: &str) -> bool {
        let filter_levels: Vec<&str> = filter.split('/').collect();
        let name_levels: Vec<&str> = name.split('/').collect();
        let leading_wildcard = matches!(filter_levels.first(), Some(&"+") | Some(&"#"));
        if leading_wildcard && name.starts_with('$') {
            return false;
        }
        reference_levels(&filter_levels, &name_levels)
    }

    /// Every '/'-joined sequence of 1..=max_levels levels drawn from `alphabet`.
    fn joined_sequences(alphabet: &[&str], max_levels: usize) -> Vec<String> {
        let mut all: Vec<Vec<&str>> = alphabet.iter().map(|l| vec![*l]).collect();
        let mut frontier = all.clone();
        for _ in 1..max_levels {
            let mut next = Vec::new();
            for seq in &frontier {
                for level in alphabet {
                    let mut longer = seq.clone();
                    longer.push(level);
                    next.push(longer);
                }
            }
            all.extend(next.iter().cloned());
            frontier = next;
        }
        all.into_iter().map(|levels| levels.join("/")).collect()
    }

    #[test]
    fn matches_agrees_with_reference_matcher() {
        let filters: Vec<String> = joined_sequences(&["a", "b", "", "+", "#", "$a"], 3)
            .into_iter()
            .filter(|f| validate_topic_filter(f).is_ok())
            .collect();
        let names: Vec<String> = joined_sequences(&["a", "b", "", "$a"], 3)
            .into_iter()
            .filter(|n| validate_topic_name(n).is_ok())
            .collect();
        let (mut compared, mut matched) = (0usize, 0usize);
        for filter in &filters {
            for name in &names {
                let expected = reference_matches(filter, name);
                assert_eq!(matches(filter, name), expected, "{filter:?} vs {name:?}");
                compared += 1;
                matched += usize::from(expected);
            }
        }
        // Guard against a vacuous comparison: plenty of pairs, both outcomes well represented.
        assert!(compared > 10_000, "only {compared} pairs compared");
        assert!(
            matched > 500 && compared - matched > 500,
            "{matched} of {compared} matched"
        );
    }

    // ----- error metadata ----------------------------------------------------------------

    #[test]
    fn statement_ids_for_v3_1_1() {
        use TopicError::*;
        for (err, id) in [
            (Empty, Some("MQTT-4.7.3-1")),
            (TooLong, Some("MQTT-4.7.3-3")),
            (NullCharacter, Some("MQTT-4.7.3-2")),
            (WildcardInName, Some("MQTT-4.7.1-1")),
            (MultiLevelWildcardNotLast, Some("MQTT-4.7.1-2")),
            (SingleLevelWildcardNotAlone, Some("MQTT-4.7.1-3")),
            (EmptyShareName, None),
            (InvalidShareName, None),
            (SharedFilterMissing, None),
        ] {
            assert_eq!(err.statement(V3_1_1), id, "{err:?}");
        }
    }

    #[test]
    fn v3_1_uses_the_v3_1_1_statement_ids() {
        for err in ALL_ERRORS {
            assert_eq!(err.statement(V3_1), err.statement(V3_1_1), "{err:?}");
        }
    }

    #[test]
    fn statement_ids_for_v5() {
        use TopicError::*;
        for (err, id) in [
            (Empty, "MQTT-4.7.3-1"),
            (TooLong, "MQTT-4.7.3-3"),
            (NullCharacter, "MQTT-4.7.3-2"),
            (WildcardInName, "MQTT-4.7.0-1"),
            (MultiLevelWildcardNotLast, "MQTT-4.7.1-1"),
            (SingleLevelWildcardNotAlone, "MQTT-4.7.1-2"),
            (EmptyShareName, "MQTT-4.8.2-1"),
            (InvalidShareName, "MQTT-4.8.2-2"),
            (SharedFilterMissing, "MQTT-4.8.2-2"),
        ] {
            assert_eq!(err.statement(V5), Some(id), "{err:?}");
        }
    }

    #[test]
    fn every_error_has_a_distinct_one_line_description_used_by_display() {
        for (i, err) in ALL_ERRORS.iter().enumerate() {
            let text = err.describe();
            assert!(!text.is_empty() && !text.contains('\n'), "{err:?}");
            assert_eq!(err.to_string(), text);
            for other in ALL_ERRORS.get(i + 1..).unwrap_or_default() {
                assert_ne!(text, other.describe(), "{err:?} vs {other:?}");
            }
        }
        assert_eq!(
            TopicError::MultiLevelWildcardNotLast.describe(),
            "'#' must be the last character of a topic filter, alone in its level"
        );
    }

    #[test]
    fn topic_error_is_a_std_error() {
        let err: Box<dyn std::error::Error> = Box::new(TopicError::Empty);
        assert!(err.source().is_none());
    }
}
