//! `glidepath versions prune`: which published versions of a function may be deleted, and
//! why each other one is kept. The decision is pure ([`decide`]); the command gathers every
//! fact first, decides, prints, and deletes only with `--yes`.
//!
//! Kept, whatever `--keep` says: a version an alias routes to (its version or its
//! additional-version weight), the current or target version of an unfinished rollout, a
//! version with provisioned concurrency. `$LATEST` is never listed. Of the rest, the newest
//! `keep` stay and the older ones go. Lambda itself refuses to delete a version an alias
//! references, so an alias that moves between the listing and the delete is still safe.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Where an alias sends its traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasRoute {
    pub alias: String,
    pub version: String,
    /// The additional version of a weighted alias.
    pub additional: Option<String>,
}

/// An unfinished rollout's two versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    pub rollout_id: String,
    pub current: String,
    pub target: String,
}

/// What happens to one version, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub version: String,
    pub delete: bool,
    /// Why it is kept (empty when deleted).
    pub reasons: Vec<String>,
}

/// The versions (numbers) that would be deleted if nothing else kept them: all but the
/// newest `keep`, and none an alias or an unfinished rollout needs. Their provisioned
/// concurrency is checked next.
pub fn candidates(
    versions: &[String],
    aliases: &[AliasRoute],
    unfinished: &[Unfinished],
    keep: usize,
) -> Vec<String> {
    decide(versions, aliases, unfinished, &BTreeSet::new(), keep)
        .into_iter()
        .filter(|d| d.delete)
        .map(|d| d.version)
        .collect()
}

/// Every published version, newest first, with what happens to it.
pub fn decide(
    versions: &[String],
    aliases: &[AliasRoute],
    unfinished: &[Unfinished],
    provisioned: &BTreeSet<String>,
    keep: usize,
) -> Vec<Decision> {
    let mut numbered: Vec<(u64, &String)> = versions
        .iter()
        .filter_map(|v| v.parse::<u64>().ok().map(|n| (n, v)))
        .collect();
    numbered.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    numbered.dedup_by_key(|(n, _)| *n);
    let mut reasons: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for route in aliases {
        reasons
            .entry(route.version.as_str())
            .or_default()
            .push(format!("alias {} routes to it", route.alias));
        if let Some(additional) = &route.additional {
            reasons
                .entry(additional.as_str())
                .or_default()
                .push(format!("alias {} sends it a weighted share", route.alias));
        }
    }
    for rollout in unfinished {
        for (role, version) in [("current", &rollout.current), ("target", &rollout.target)] {
            reasons.entry(version.as_str()).or_default().push(format!(
                "the {role} version of unfinished rollout {}",
                rollout.rollout_id
            ));
        }
    }
    for version in provisioned {
        reasons
            .entry(version.as_str())
            .or_default()
            .push("has provisioned concurrency".to_string());
    }
    numbered
        .into_iter()
        .enumerate()
        .map(|(rank, (_, version))| {
            let mut why = reasons.get(version.as_str()).cloned().unwrap_or_default();
            if rank < keep {
                why.insert(0, format!("one of the newest {keep}"));
            }
            Decision {
                version: version.clone(),
                delete: why.is_empty(),
                reasons: why,
            }
        })
        .collect()
}

/// The decisions as a table.
pub fn render(function: &str, decisions: &[Decision], deleting: bool) -> String {
    let mut out = String::new();
    for decision in decisions {
        let line = if decision.delete {
            if deleting {
                format!("{function}:{}  deleted\n", decision.version)
            } else {
                format!("{function}:{}  would be deleted\n", decision.version)
            }
        } else {
            format!(
                "{function}:{}  kept: {}\n",
                decision.version,
                decision.reasons.join("; ")
            )
        };
        out.push_str(&line);
    }
    if !deleting && decisions.iter().any(|d| d.delete) {
        out.push_str("dry run: nothing was deleted; add --yes to delete\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keeps_what_is_in_use_and_the_newest() {
        let versions = strings(&["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "$LATEST"]);
        let aliases = [
            AliasRoute {
                alias: "live".into(),
                version: "3".into(),
                additional: Some("4".into()),
            },
            AliasRoute {
                alias: "beta".into(),
                version: "10".into(),
                additional: None,
            },
        ];
        let unfinished = [Unfinished {
            rollout_id: "r-1".into(),
            current: "5".into(),
            target: "6".into(),
        }];
        let provisioned = BTreeSet::from(["1".to_string()]);
        let decisions = decide(&versions, &aliases, &unfinished, &provisioned, 2);
        let order: Vec<&str> = decisions.iter().map(|d| d.version.as_str()).collect();
        assert_eq!(
            order,
            ["10", "9", "8", "7", "6", "5", "4", "3", "2", "1"],
            "newest first, numbers not text, no $LATEST"
        );
        let deleted: Vec<&str> = decisions
            .iter()
            .filter(|d| d.delete)
            .map(|d| d.version.as_str())
            .collect();
        assert_eq!(deleted, ["8", "7", "2"]);
        let why = |v: &str| {
            decisions
                .iter()
                .find(|d| d.version == v)
                .unwrap()
                .reasons
                .join("; ")
        };
        assert_eq!(why("10"), "one of the newest 2; alias beta routes to it");
        assert_eq!(why("4"), "alias live sends it a weighted share");
        assert_eq!(why("6"), "the target version of unfinished rollout r-1");
        assert_eq!(why("1"), "has provisioned concurrency");
        assert_eq!(
            candidates(&versions, &aliases, &unfinished, 2),
            strings(&["8", "7", "2", "1"])
        );
        let text = render("orders", &decisions, false);
        assert!(text.contains("orders:8  would be deleted"));
        assert!(text.ends_with("dry run: nothing was deleted; add --yes to delete\n"));
    }

    #[test]
    fn keep_zero_still_keeps_what_is_in_use() {
        let versions = strings(&["1", "2"]);
        let aliases = [AliasRoute {
            alias: "live".into(),
            version: "2".into(),
            additional: None,
        }];
        let decisions = decide(&versions, &aliases, &[], &BTreeSet::new(), 0);
        assert_eq!(
            decisions.iter().map(|d| d.delete).collect::<Vec<_>>(),
            [false, true]
        );
    }
}
