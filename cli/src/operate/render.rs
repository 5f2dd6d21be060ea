//! How the operator commands print: plain aligned text for people, JSON for programs.

use glidepath_aws::ports::HistoryEntry;
use glidepath_core::{PlanStep, Rollout, format_duration};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;

/// A rollout as `status --json` and `list --json` print it.
pub fn rollout_json(rollout: &Rollout) -> Value {
    json!({
        "rolloutId": rollout.id,
        "function": rollout.spec.function,
        "alias": rollout.spec.alias,
        "currentVersion": rollout.spec.current_version,
        "targetVersion": rollout.spec.target_version,
        "strategy": rollout.spec.strategy,
        "status": rollout.status,
        "weight": rollout.weight,
        "seq": rollout.seq,
        "step": rollout.step_index,
        "steps": rollout.plan.len(),
        "nextTickAt": rollout.next_tick_at,
        "alarms": rollout.spec.alarms,
        "hooks": rollout.spec.hooks,
        "reason": rollout.reason,
        "requestedBy": rollout.spec.requested_by,
        "authorizedBy": rollout.spec.authorized_by,
        "createdAt": rollout.created_at,
        "updatedAt": rollout.updated_at,
    })
}

/// What `start` answered.
pub fn started(answer: &Value) -> String {
    let existing = if answer["existing"] == true {
        " (the same request was made before: this is its rollout)"
    } else {
        ""
    };
    format!(
        "rollout {} of {}:{}: version {} -> {}, {} at {}%{existing}\n",
        text(&answer["rolloutId"]),
        text(&answer["function"]),
        text(&answer["alias"]),
        text(&answer["currentVersion"]),
        text(&answer["targetVersion"]),
        text(&answer["status"]),
        answer["weight"],
    )
}

/// What a command answered: the rollout's new state.
pub fn answer(answer: &Value) -> String {
    let mut line = format!(
        "rollout {}: {} at {}%",
        text(&answer["rolloutId"]),
        text(&answer["status"]),
        answer["weight"]
    );
    if let Some(reason) = answer["reason"].as_str() {
        let _ = write!(line, " ({reason})");
    }
    line + "\n"
}

/// `status`: the rollout and its plan, the step in effect marked with `>`.
pub fn status(rollout: &Rollout, alarm_states: &BTreeMap<String, String>) -> String {
    let spec = &rollout.spec;
    let mut out = String::new();
    let _ = writeln!(out, "rollout   {}", rollout.id);
    let _ = writeln!(out, "alias     {}:{}", spec.function, spec.alias);
    let _ = writeln!(
        out,
        "versions  {} -> {}",
        spec.current_version, spec.target_version
    );
    let _ = writeln!(out, "status    {} at {}%", rollout.status, rollout.weight);
    if let Some(reason) = &rollout.reason {
        let _ = writeln!(out, "reason    {reason}");
    }
    if let Some(at) = rollout.next_tick_at {
        let _ = writeln!(out, "next tick {} (unix seconds)", at);
    }
    for alarm in &spec.alarms {
        let state = alarm_states.get(alarm).map(String::as_str).unwrap_or("?");
        let _ = writeln!(out, "alarm     {alarm}: {state}");
    }
    for (phase, hook) in [
        ("pre-traffic", &spec.hooks.pre_traffic),
        ("post-traffic", &spec.hooks.post_traffic),
    ] {
        if let Some(hook) = hook {
            let _ = writeln!(out, "hook      {phase}: {hook}");
        }
    }
    if let Some(actor) = &spec.requested_by {
        let rule = spec.authorized_by.as_deref().unwrap_or("-");
        let _ = writeln!(out, "by        {actor} (rule {rule})");
    }
    let _ = writeln!(out, "plan      {}", spec.strategy);
    for (index, step) in rollout.plan.steps().iter().enumerate() {
        let marker = if rollout.step_index == Some(index) {
            ">"
        } else {
            " "
        };
        let what = match step {
            PlanStep::Shift {
                weight,
                wait_seconds,
            } => format!("{weight:>3}%  then wait {}", format_duration(*wait_seconds)),
            PlanStep::Pause => "gate: waits for resume".to_string(),
        };
        let _ = writeln!(out, "  {marker} {:>2}. {what}", index + 1);
    }
    out
}

/// `history`: one line a transition.
pub fn history(history: &[HistoryEntry]) -> String {
    let mut out = format!(
        "{:>4}  {:<12}  {:<14}  {:<12}  {:>6}  {:<32}  reason\n",
        "seq", "at", "event", "status", "weight", "actor"
    );
    for entry in history {
        let _ = writeln!(out, "{}", row(entry));
    }
    out
}

fn row(entry: &HistoryEntry) -> String {
    format!(
        "{:>4}  {:<12}  {:<14}  {:<12}  {:>5}%  {:<32}  {}",
        entry.seq,
        entry.at,
        entry.event,
        entry.status.as_str(),
        entry.weight,
        entry
            .actor
            .as_ref()
            .map(|a| a.principal.as_str())
            .unwrap_or("-"),
        entry.reason.as_deref().unwrap_or("")
    )
}

/// `watch`: one transition.
pub fn transition(entry: &HistoryEntry) -> String {
    let mut line = format!(
        "seq {:>3}  {:<14} {:<12} {:>3}%",
        entry.seq,
        entry.event,
        entry.status.as_str(),
        entry.weight
    );
    if let Some(reason) = &entry.reason {
        let _ = write!(line, "  {reason}");
    }
    line
}

/// `watch`: how the rollout ended.
pub fn ending(rollout: &Rollout) -> String {
    match &rollout.reason {
        Some(reason) => format!("rollout {} ended {}: {reason}", rollout.id, rollout.status),
        None => format!("rollout {} ended {}", rollout.id, rollout.status),
    }
}

/// `list`: one line a rollout, newest first.
pub fn list(rollouts: &[Rollout]) -> String {
    let mut out = format!(
        "{:<24}  {:<12}  {:>6}  {:<9}  {:<12}  reason\n",
        "rollout", "status", "weight", "versions", "created"
    );
    for rollout in rollouts {
        let _ = writeln!(
            out,
            "{:<24}  {:<12}  {:>5}%  {:<9}  {:<12}  {}",
            rollout.id,
            rollout.status.as_str(),
            rollout.weight,
            format!(
                "{}->{}",
                rollout.spec.current_version, rollout.spec.target_version
            ),
            rollout.created_at,
            rollout.reason.as_deref().unwrap_or("")
        );
    }
    out
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("?")
}
