//! The operator commands on a release (several members shifted together):
//! `release start FILE [--wait]`, and `status`, `watch` and `history` given a release id (or
//! any member's id, which stands for its release). `pause`, `resume`, `promote` and `abort`
//! need nothing here: Glidepath applies them to the whole release whichever id they name.

use super::{Control, Exit, Format, Function, OperateError, Operator, io, render};
use glidepath_aws::ports::HistoryEntry;
use glidepath_core::release::{member_id, release_status};
use glidepath_core::{Rollout, Status};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::io::Write;

/// What an id names.
pub enum Target {
    Rollout(Box<Rollout>),
    /// A release: its members, in order.
    Release(Vec<Rollout>),
}

impl<C: Control> Operator<'_, C> {
    /// What `id` names: a rollout, a release (by its id), or a member (its release).
    pub async fn target(&self, id: &str) -> Result<Target, OperateError> {
        let found = match self.control.load(id).await? {
            Some(rollout) => Some(rollout),
            None => self.control.load(&member_id(id, 0)).await?,
        };
        let rollout = found.ok_or_else(|| {
            OperateError::new(Exit::BadInput, format!("no rollout or release {id}"))
        })?;
        let Some(release) = rollout.release.clone() else {
            return Ok(Target::Rollout(Box::new(rollout)));
        };
        let mut members = Vec::with_capacity(release.members.len());
        for member in &release.members {
            members.push(self.control.load(member).await?.ok_or_else(|| {
                OperateError::new(
                    Exit::Aws,
                    format!("member {member} of release {} is missing", release.id),
                )
            })?);
        }
        Ok(Target::Release(members))
    }

    /// `release start FILE`: sends the release request; with `wait`, watches it to its end.
    pub async fn release_start(
        &self,
        request: &Value,
        wait: bool,
        out: &mut dyn Write,
    ) -> Result<Exit, OperateError> {
        if !glidepath_core::ReleaseRequest::is_release(request) {
            return Err(OperateError::new(
                Exit::BadInput,
                "the file is not a release request (it has no `members` or `waves`); start one rollout with `glidepath start --request FILE`",
            ));
        }
        let answer = self.control.invoke(Function::Start, request).await?;
        let id = answer["releaseId"]
            .as_str()
            .ok_or_else(|| {
                OperateError::new(
                    Exit::Aws,
                    format!("start answered without a releaseId: {answer}"),
                )
            })?
            .to_string();
        if !wait {
            self.print(out, &answer, &started(&answer))?;
            return Ok(Exit::Done);
        }
        if self.format == Format::Text {
            write!(out, "{}", started(&answer)).map_err(io)?;
        }
        self.watch_release(&id, out).await
    }

    /// `status` of a release: its status as a whole and each member's.
    pub fn release_status(
        &self,
        members: &[Rollout],
        out: &mut dyn Write,
    ) -> Result<Exit, OperateError> {
        let json = json!({
            "releaseId": members.first().and_then(|m| m.release.as_ref()).map(|r| r.id.clone()),
            "status": release_status(members),
            "members": members.iter().map(render::rollout_json).collect::<Vec<_>>(),
        });
        self.print(out, &json, &status(members, self.paint))?;
        Ok(Exit::Done)
    }

    /// `history` of a release: every member's transitions, in time order, each named with its
    /// member.
    pub async fn release_history(
        &self,
        members: &[Rollout],
        out: &mut dyn Write,
    ) -> Result<Exit, OperateError> {
        let merged = self.merged_history(members).await?;
        let json = Value::Array(
            merged
                .iter()
                .map(|(member, entry)| {
                    let mut value = serde_json::to_value(entry).unwrap_or(Value::Null);
                    value["member"] = json!(member);
                    value
                })
                .collect(),
        );
        let mut text = String::new();
        for (member, entry) in &merged {
            let _ = writeln!(
                text,
                "{member:<28}  {}",
                render::transition(entry, self.paint)
            );
        }
        self.print(out, &json, &text)?;
        Ok(Exit::Done)
    }

    /// `watch` of a release: each member's transitions as they happen, until every member has
    /// ended; exits 0 if all succeeded, 1 otherwise.
    pub async fn watch_release(&self, id: &str, out: &mut dyn Write) -> Result<Exit, OperateError> {
        let mut printed = 0usize;
        loop {
            let members = match self.target(id).await? {
                Target::Release(members) => members,
                Target::Rollout(_) => {
                    return Err(OperateError::new(
                        Exit::BadInput,
                        format!("{id} is not a release"),
                    ));
                }
            };
            let merged = self.merged_history(&members).await?;
            for (member, entry) in merged.iter().skip(printed) {
                let line = match self.format {
                    Format::Json => {
                        let mut value = serde_json::to_value(entry).unwrap_or(Value::Null);
                        value["member"] = json!(member);
                        value.to_string()
                    }
                    Format::Text => {
                        format!("{member:<28}  {}", render::transition(entry, self.paint))
                    }
                };
                writeln!(out, "{line}").map_err(io)?;
            }
            printed = printed.max(merged.len());
            out.flush().map_err(io)?;
            if members.iter().all(|m| m.status.is_terminal()) {
                let status = release_status(&members);
                if self.format == Format::Text {
                    writeln!(
                        out,
                        "release {id}: {}",
                        self.paint.status(status, status.as_str())
                    )
                    .map_err(io)?;
                }
                return Ok(if status == Status::Succeeded {
                    Exit::Done
                } else {
                    Exit::RolledBack
                });
            }
            self.control.pause(self.interval).await;
        }
    }

    /// Every member's history, labelled `function:alias`, in time order (then member order,
    /// then `seq`), so that what moved when reads top to bottom.
    async fn merged_history(
        &self,
        members: &[Rollout],
    ) -> Result<Vec<(String, HistoryEntry)>, OperateError> {
        let mut merged = Vec::new();
        for (index, member) in members.iter().enumerate() {
            let label = format!("{}:{}", member.spec.function, member.spec.alias);
            for entry in self.control.history(&member.id).await? {
                merged.push((entry.at, index, entry.seq, label.clone(), entry));
            }
        }
        merged.sort_by_key(|(at, index, seq, _, _)| (*at, *index, *seq));
        Ok(merged
            .into_iter()
            .map(|(_, _, _, label, entry)| (label, entry))
            .collect())
    }
}

/// What `release start` prints.
pub fn started(answer: &Value) -> String {
    let existing = if answer["existing"] == true {
        " (the same request was made before: this is its release)"
    } else {
        ""
    };
    let mut out = format!(
        "release {} ({}): {}{existing}\n",
        render::text(&answer["releaseId"]),
        answer["name"].as_str().unwrap_or("unnamed"),
        render::text(&answer["status"]),
    );
    for member in answer["members"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "  {} {}:{}: version {} -> {}, {} at {}%",
            render::text(&member["rolloutId"]),
            render::text(&member["function"]),
            render::text(&member["alias"]),
            render::text(&member["currentVersion"]),
            render::text(&member["targetVersion"]),
            render::text(&member["status"]),
            member["weight"],
        );
    }
    out
}

/// `status` of a release, as text.
pub fn status(members: &[Rollout], paint: render::Paint) -> String {
    let mut out = String::new();
    let release = members.first().and_then(|m| m.release.as_ref());
    let overall = release_status(members);
    let _ = writeln!(
        out,
        "release   {}{}",
        release.map_or("?", |r| r.id.as_str()),
        release
            .and_then(|r| r.name.as_deref())
            .map(|n| format!(" ({n})"))
            .unwrap_or_default()
    );
    let _ = writeln!(out, "status    {}", paint.status(overall, overall.as_str()));
    if let Some(plan) = members.first() {
        let _ = writeln!(out, "plan      {}", plan.spec.strategy);
    }
    let waves = members.iter().map(Rollout::wave).max().unwrap_or(0) + 1;
    let _ = writeln!(out, "members");
    for member in members {
        let spec = &member.spec;
        let waiting = if member.barrier().is_some() {
            " (waiting for the others)"
        } else if member.is_unstarted() {
            " (not started: waits for the earlier waves)"
        } else {
            ""
        };
        if waves > 1 {
            let _ = write!(out, "  wave {}", member.wave() + 1);
        }
        let _ = writeln!(
            out,
            "  {:<28} {} -> {}  {} at {}%{waiting}",
            format!("{}:{}", spec.function, spec.alias),
            spec.current_version,
            spec.target_version,
            paint.status(member.status, member.status.as_str()),
            member.weight
        );
        if let Some(reason) = member
            .reason
            .as_deref()
            .filter(|_| member.barrier().is_none())
        {
            let _ = writeln!(out, "  {:<28} {reason}", "");
        }
    }
    out
}

/// An answer about a release (a command on it), as one line per member.
pub fn answer(answer: &Value) -> String {
    let mut out = format!(
        "release {}: {}\n",
        render::text(&answer["releaseId"]),
        render::text(&answer["status"])
    );
    for member in answer["members"].as_array().into_iter().flatten() {
        let _ = write!(
            out,
            "  {}:{} {} at {}%",
            render::text(&member["function"]),
            render::text(&member["alias"]),
            render::text(&member["status"]),
            member["weight"]
        );
        if let Some(reason) = member["reason"].as_str() {
            let _ = write!(out, " ({reason})");
        }
        out.push('\n');
    }
    out
}
