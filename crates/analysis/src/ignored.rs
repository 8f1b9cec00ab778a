//! Objects a project has decided not to judge: `kind/namespace/name`
//! patterns with `*` wildcards, each with the reason the team recorded.

/// One ignored-objects entry of the project configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoredObject {
    /// As written: `Deployment/kube-system/*`.
    pub pattern: String,
    pub reason: String,
    kind: String,
    namespace: String,
    name: String,
}

impl IgnoredObject {
    /// Reads `kind/namespace/name`; the message says what is wrong.
    pub fn new(pattern: &str, reason: &str) -> Result<Self, String> {
        let parts: Vec<&str> = pattern.split('/').collect();
        let [kind, namespace, name] = parts[..] else {
            return Err(format!(
                "object pattern {pattern:?} must have three parts, kind/namespace/name \
                 (use * for any, and an empty namespace for objects without one)"
            ));
        };
        if kind.is_empty() || name.is_empty() {
            return Err(format!(
                "object pattern {pattern:?}: the kind and the name cannot be empty (use *)"
            ));
        }
        if reason.trim().is_empty() {
            return Err(format!(
                "object pattern {pattern:?}: the reason cannot be empty"
            ));
        }
        Ok(Self {
            pattern: pattern.to_string(),
            reason: reason.to_string(),
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }

    /// Whether it covers an object; an absent namespace or name is empty.
    pub fn matches(&self, kind: &str, namespace: Option<&str>, name: Option<&str>) -> bool {
        wildcard_match(&self.kind, kind)
            && wildcard_match(&self.namespace, namespace.unwrap_or(""))
            && wildcard_match(&self.name, name.unwrap_or(""))
    }
}

/// `*` matches any run of characters (none included); everything else
/// matches itself.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Greedy with one backtrack point: linear enough for names.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_any_run_of_characters() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("web-*", "web-1"));
        assert!(wildcard_match("*-canary-*", "api-canary-2"));
        assert!(!wildcard_match("web-*", "api-1"));
        assert!(!wildcard_match("web", "web-1"));
        assert!(wildcard_match("a*b*c", "aXbYbc"));
    }

    #[test]
    fn patterns_have_three_parts_and_match_absent_parts_as_empty() {
        let ignored = IgnoredObject::new("Deployment/*/legacy-*", "migrating in Q3").unwrap();
        assert!(ignored.matches("Deployment", Some("prod"), Some("legacy-api")));
        assert!(ignored.matches("Deployment", None, Some("legacy-api")));
        assert!(!ignored.matches("StatefulSet", None, Some("legacy-api")));
        let unnamespaced = IgnoredObject::new("*//web", "r").unwrap();
        assert!(unnamespaced.matches("Pod", None, Some("web")));
        assert!(!unnamespaced.matches("Pod", Some("prod"), Some("web")));
        assert!(IgnoredObject::new("Deployment/web", "r").is_err());
        assert!(IgnoredObject::new("/ns/web", "r").is_err());
        assert!(IgnoredObject::new("Pod/ns/web", " ").is_err());
    }
}
