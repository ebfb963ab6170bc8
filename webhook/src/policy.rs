//! What the webhook does with a finding of each severity, and who is exempt.

use std::collections::BTreeSet;
use std::str::FromStr;

use dplint_core::Severity;

/// What a finding does to the admission answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Refuse the request; the message lists the findings.
    Deny,
    /// Allow it with a warning that kubectl prints.
    Warn,
    /// Allow it; the finding goes to the audit annotations and the log.
    Audit,
    /// Allow it and say nothing.
    Ignore,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deny => "deny",
            Action::Warn => "warn",
            Action::Audit => "audit",
            Action::Ignore => "ignore",
        }
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "deny" => Ok(Action::Deny),
            "warn" => Ok(Action::Warn),
            "audit" => Ok(Action::Audit),
            "ignore" => Ok(Action::Ignore),
            other => Err(format!(
                "unknown action {other:?} (expected deny, warn, audit or ignore)"
            )),
        }
    }
}

/// What the webhook answers when it cannot judge a request (an object it cannot read, an
/// internal error, the deadline): it must never keep kube-proxy or calico-node from healing
/// because of its own failure, so the default is to allow with a warning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FailureAction {
    #[default]
    Allow,
    Deny,
}

impl FromStr for FailureAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "allow" => Ok(FailureAction::Allow),
            "deny" => Ok(FailureAction::Deny),
            other => Err(format!("unknown failure action {other:?} (expected allow or deny)")),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub on_error: Action,
    pub on_warning: Action,
    pub on_info: Action,
    pub on_failure: FailureAction,
    /// Requests in these namespaces are allowed without a check.
    pub exempt_namespaces: BTreeSet<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            on_error: Action::Deny,
            on_warning: Action::Warn,
            on_info: Action::Audit,
            on_failure: FailureAction::Allow,
            exempt_namespaces: BTreeSet::new(),
        }
    }
}

impl Policy {
    pub fn action(&self, severity: Severity) -> Action {
        match severity {
            Severity::Error => self.on_error,
            Severity::Warning => self.on_warning,
            Severity::Info => self.on_info,
        }
    }

    /// Applies `severity=action` (`error=warn`).
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (severity, action) = assignment
            .split_once('=')
            .ok_or_else(|| format!("{assignment:?} is not SEVERITY=ACTION (such as error=deny)"))?;
        let action: Action = action.trim().parse()?;
        match severity.trim().parse::<Severity>()? {
            Severity::Error => self.on_error = action,
            Severity::Warning => self.on_warning = action,
            Severity::Info => self.on_info = action,
        }
        Ok(())
    }

    pub fn is_exempt_namespace(&self, namespace: Option<&str>) -> bool {
        namespace.is_some_and(|ns| self.exempt_namespaces.contains(ns))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_severity() {
        let p = Policy::default();
        assert_eq!(p.action(Severity::Error), Action::Deny);
        assert_eq!(p.action(Severity::Warning), Action::Warn);
        assert_eq!(p.action(Severity::Info), Action::Audit);
    }

    #[test]
    fn assignments_change_one_severity() {
        let mut p = Policy::default();
        p.set("error=warn").unwrap();
        assert_eq!(p.action(Severity::Error), Action::Warn);
        assert!(p.set("error").is_err());
        assert!(p.set("fatal=deny").is_err());
        assert!(p.set("error=block").is_err());
    }
}
