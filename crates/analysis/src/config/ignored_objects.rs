//! Objects a project has decided not to judge: `kind/namespace/name`
//! patterns with `*` wildcards, each with the reason the team recorded.

use globset::{GlobBuilder, GlobMatcher};

/// One ignored-objects entry of the project configuration.
#[derive(Clone, Debug)]
pub struct IgnoredObject {
    /// As written: `Deployment/kube-system/*`.
    pub pattern: String,
    pub reason: String,
    kind: GlobMatcher,
    namespace: GlobMatcher,
    name: GlobMatcher,
}

impl PartialEq for IgnoredObject {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern && self.reason == other.reason
    }
}

impl Eq for IgnoredObject {}

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
            kind: wildcard(kind)?,
            namespace: wildcard(namespace)?,
            name: wildcard(name)?,
        })
    }

    /// Whether it covers an object; an absent namespace or name is empty.
    pub fn matches(&self, kind: &str, namespace: Option<&str>, name: Option<&str>) -> bool {
        self.kind.is_match(kind)
            && self.namespace.is_match(namespace.unwrap_or(""))
            && self.name.is_match(name.unwrap_or(""))
    }
}

/// A matcher where `*` matches any run of characters (none included) and
/// everything else matches itself: every other glob character is escaped,
/// so `?` or `[` in a pattern mean themselves.
fn wildcard(pattern: &str) -> Result<GlobMatcher, String> {
    let escaped: Vec<String> = pattern.split('*').map(globset::escape).collect();
    GlobBuilder::new(&escaped.join("*"))
        .literal_separator(false)
        .backslash_escape(false)
        .build()
        .map(|glob| glob.compile_matcher())
        .map_err(|e| format!("object pattern part {pattern:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wildcard_match(pattern: &str, text: &str) -> bool {
        wildcard(pattern).expect("a valid pattern").is_match(text)
    }

    #[test]
    fn wildcards_match_any_run_of_characters() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("web-*", "web-1"));
        assert!(wildcard_match("*-canary-*", "api-canary-2"));
        assert!(!wildcard_match("web-*", "api-1"));
        assert!(!wildcard_match("web", "web-1"));
        assert!(wildcard_match("a*b*c", "aXbYbc"));
        assert!(wildcard_match("a*c", "a/b.c"));
    }

    #[test]
    fn other_glob_characters_mean_themselves() {
        assert!(wildcard_match("web?", "web?"));
        assert!(!wildcard_match("web?", "web1"));
        assert!(wildcard_match("[ab]", "[ab]"));
        assert!(!wildcard_match("[ab]", "a"));
        assert!(wildcard_match("{a,b}*", "{a,b}-1"));
        assert!(wildcard_match(r"a\b", r"a\b"));
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
