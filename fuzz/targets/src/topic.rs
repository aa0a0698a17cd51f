//! `topic`: topic name and filter validation, shared-subscription parsing and matching,
//! checked against a deliberately simple reference written from the spec text.
//!
//! Input layout: `[version selector][filter bytes…][0xFF][name bytes…]`. 0xFF never occurs in
//! UTF-8, so it cannot be part of either string; bytes that are not UTF-8 leave the input
//! out. Without a 0xFF the whole rest is used as both filter and name.

use mqttspec_codec::ProtocolVersion;
use mqttspec_codec::topic::{self, SubscriptionFilter, TopicError};

use crate::version_from;

pub fn run(data: &[u8]) {
    let [selector, rest @ ..] = data else {
        return;
    };
    let version = version_from(*selector);
    let (filter, name) = match rest.iter().position(|&b| b == 0xFF) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, rest),
    };
    let (Ok(filter), Ok(name)) = (std::str::from_utf8(filter), std::str::from_utf8(name)) else {
        return;
    };

    assert_eq!(
        topic::validate_topic_name(name).is_ok(),
        reference::valid_name(name),
        "name {name:?}"
    );
    let filter_ok = topic::validate_topic_filter(filter).is_ok();
    assert_eq!(
        filter_ok,
        reference::valid_filter(filter),
        "filter {filter:?}"
    );
    assert_eq!(
        topic::has_wildcards(filter),
        filter.contains(['+', '#']),
        "has_wildcards({filter:?})"
    );

    let parsed = SubscriptionFilter::parse(filter, version);
    match reference::shared(filter, version) {
        Some(expected) => {
            let expected = expected.map(|(share, inner)| (Some(share), inner));
            let got = parsed.map(|p| (p.share_name, p.filter));
            assert_eq!(
                got.is_ok(),
                expected.is_ok(),
                "{version}: parse({filter:?}) = {got:?}, expected {expected:?}"
            );
            if let (Ok(got), Ok(expected)) = (got, expected) {
                assert_eq!(got, expected, "{version}: parse({filter:?})");
            }
        }
        None => {
            assert_eq!(
                parsed.is_ok(),
                filter_ok,
                "{version}: parse({filter:?}) as a plain filter"
            );
            if let Ok(p) = parsed {
                assert_eq!((p.share_name, p.filter), (None, filter));
            }
        }
    }
    if let Err(e) = &parsed {
        statement_is_known(*e, version);
    }

    if filter_ok && reference::valid_name(name) {
        assert_eq!(
            topic::matches(filter, name),
            reference::matches(filter, name),
            "matches({filter:?}, {name:?})"
        );
    }
}

/// Every refusal names a statement of the version's spec (or, before 5.0, none for the
/// share syntax that 3.1.1 does not have).
fn statement_is_known(e: TopicError, version: ProtocolVersion) {
    if let Some(id) = e.statement(version) {
        assert!(
            mqttspec_codec::spec::statement(version.spec(), id).is_some(),
            "{e:?} names {id}, unknown in {version}"
        );
    }
}

/// The rules, written as plainly as the spec states them (3.1.1 §4.7, 5.0 §4.7, §4.8.2).
mod reference {
    use mqttspec_codec::ProtocolVersion;

    fn common(s: &str) -> bool {
        !s.is_empty() && s.len() <= 65_535 && !s.contains('\0')
    }

    pub fn valid_name(s: &str) -> bool {
        common(s) && !s.contains('+') && !s.contains('#')
    }

    pub fn valid_filter(s: &str) -> bool {
        if !common(s) {
            return false;
        }
        let levels: Vec<&str> = s.split('/').collect();
        levels.iter().enumerate().all(|(i, level)| {
            let last = i + 1 == levels.len();
            match *level {
                "#" => last,
                "+" => true,
                other => !other.contains('+') && !other.contains('#'),
            }
        })
    }

    /// `None`: not a shared subscription for this version; else the parse result.
    #[allow(clippy::type_complexity)]
    pub fn shared(s: &str, version: ProtocolVersion) -> Option<Result<(&str, &str), ()>> {
        if !version.is_v5() || !s.starts_with("$share/") {
            return None;
        }
        let rest = &s["$share/".len()..];
        let (share, inner) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => return Some(Err(())),
        };
        let ok = common(s)
            && !share.is_empty()
            && !share.contains('+')
            && !share.contains('#')
            && valid_filter(inner);
        Some(if ok { Ok((share, inner)) } else { Err(()) })
    }

    /// Level-by-level recursion, as 4.7.1 describes the wildcards.
    pub fn matches(filter: &str, name: &str) -> bool {
        // 4.7.2: a filter starting with a wildcard does not match a name starting with '$'.
        if name.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
            return false;
        }
        let f: Vec<&str> = filter.split('/').collect();
        let n: Vec<&str> = name.split('/').collect();
        levels(&f, &n)
    }

    fn levels(f: &[&str], n: &[&str]) -> bool {
        match (f.first(), n.first()) {
            // '#' matches the parent and any number of child levels.
            (Some(&"#"), _) => true,
            (None, None) => true,
            (Some(&"+"), Some(_)) => levels(&f[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => levels(&f[1..], &n[1..]),
            _ => false,
        }
    }
}
