//! A chart's `values.yaml`, and what a template action such as
//! `{{ .Values.serviceAccount.automount }}` renders from it.

use crate::fix::{replace_value, Fix};
use crate::text::TextRange;
use crate::tree::{NodeId, NodeKind};
use crate::value::{get, read_bool_field, read_string, BoolField};
use crate::ParsedFile;

/// A value reference of a template action: `.Values.a.b`, optionally with a
/// default (`.Values.a.b | default false`, `default false .Values.a.b`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub path: Vec<String>,
    /// The default's literal, as written (`false`, `"name"`).
    pub default: Option<String>,
    /// Piped to `quote` or `squote`: renders a string, never a boolean.
    pub quoted: bool,
}

/// Reads an action's body as a plain value reference; `None` for anything
/// else (function calls, other pipelines, `include`), which is not
/// evaluated.
pub fn reference(body: &str) -> Option<Reference> {
    let words = split_words(body)?;
    let mut words: Vec<&str> = words.iter().map(String::as_str).collect();
    let quoted = matches!(words.as_slice(), [.., "|", "quote" | "squote"]);
    if quoted {
        words.truncate(words.len() - 2);
    }
    let (path, default) = match words.as_slice() {
        [path] => (*path, None),
        [path, "|", "default", value] | ["default", value, path] => (*path, Some(*value)),
        _ => return None,
    };
    let rest = path
        .strip_prefix(".Values.")
        .or_else(|| path.strip_prefix("$.Values."))?;
    let path: Vec<String> = rest.split('.').map(str::to_string).collect();
    if path.iter().any(|segment| {
        segment.is_empty()
            || !segment
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    }) {
        return None;
    }
    if let Some(default) = default {
        if default.starts_with(['.', '$', '(']) {
            return None;
        }
    }
    Some(Reference {
        path,
        default: default.map(str::to_string),
        quoted,
    })
}

/// Blank-separated words, with `|` a word of its own and quoted strings kept
/// whole; `None` when a quote is not closed.
pub(super) fn split_words(body: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut chars = body.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '|' {
            chars.next();
            words.push("|".to_string());
        } else if c == '"' || c == '`' {
            let mut word = String::from(c);
            chars.next();
            loop {
                let d = chars.next()?;
                word.push(d);
                if d == '\\' && c == '"' {
                    word.push(chars.next()?);
                } else if d == c {
                    break;
                }
            }
            words.push(word);
        } else {
            let mut word = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_whitespace() || d == '|' {
                    break;
                }
                word.push(d);
                chars.next();
            }
            words.push(word);
        }
    }
    Some(words)
}

/// A chart's `values.yaml`, parsed, with the identity its caller knows it by
/// (a path or a URI): findings point there.
#[derive(Clone, Debug)]
pub struct ValuesFile {
    pub id: String,
    pub text: String,
    parsed: ParsedFile,
}

/// Where a value was found in `values.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueAt {
    pub range: TextRange,
    /// Setting it to `false` in `values.yaml`.
    pub fix: Fix,
}

/// What a reference renders to, as far as the rule cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// A boolean; `at` is the value in `values.yaml` when that value decided
    /// it (not the default).
    Bool { value: bool, at: Option<ValueAt> },
    /// A string, such as an account name.
    Text { value: String, at: Option<ValueAt> },
    /// Renders nothing: the key is missing (Helm renders a missing value as
    /// empty) or null, without a default; `at` is the null value, if any.
    Empty { at: Option<ValueAt> },
    /// Not decidable from the values (a collection, a number where a
    /// boolean is wanted, a quoted value).
    Unknown,
}

impl ValuesFile {
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let parsed = crate::parse(&text, crate::Options::builtin());
        Self {
            id: id.into(),
            text,
            parsed,
        }
    }

    /// The node at `path`: its document, key and value.
    fn lookup(&self, path: &[String]) -> Option<(usize, NodeId, NodeId)> {
        // The last document wins, as for a repeated key.
        let (index, doc) = self
            .parsed
            .documents
            .iter()
            .enumerate()
            .rev()
            .find(|(_, d)| d.root.is_some())?;
        let mut current = doc.resolve(doc.root?);
        let mut found = None;
        for segment in path {
            let (key, value) = get(doc, current, segment)?;
            let value = doc.resolve(value);
            found = Some((key, value));
            current = value;
        }
        found.map(|(key, value)| (index, key, value))
    }

    fn value_at(&self, doc: usize, key: NodeId, value: NodeId) -> ValueAt {
        let document = &self.parsed.documents[doc];
        let mut fix = replace_value(&self.text, document, key, value);
        fix.title = "Set it to `false` in values.yaml".to_string();
        fix.file = Some(self.id.clone());
        ValueAt {
            range: document.node(value).range,
            fix,
        }
    }

    /// What `reference` renders to as a boolean field's value.
    pub fn resolve_bool(&self, reference: &Reference) -> Resolved {
        self.resolve_bool_placed(reference, true)
    }

    /// [`ValuesFile::resolve_bool`] without the places (every `at` is
    /// `None`): what a template condition needs, without a fix made for
    /// each value it reads.
    pub(super) fn resolve_bool_unplaced(&self, reference: &Reference) -> Resolved {
        self.resolve_bool_placed(reference, false)
    }

    fn resolve_bool_placed(&self, reference: &Reference, placed: bool) -> Resolved {
        // A values file that does not parse decides nothing.
        if reference.quoted || !self.parsed.syntax_errors.is_empty() {
            return Resolved::Unknown;
        }
        let found = self.lookup(&reference.path);
        let reading =
            found.map(|(doc, _, value)| read_bool_field(&self.parsed.documents[doc], value));
        // Go templates' `default` replaces any empty value, false included.
        let empty = matches!(reading, None | Some(BoolField::Null | BoolField::False));
        match (&reference.default, reading) {
            (Some(default), _) if empty => match default.as_str() {
                "true" => Resolved::Bool {
                    value: true,
                    at: None,
                },
                "false" => Resolved::Bool {
                    value: false,
                    at: None,
                },
                _ => Resolved::Unknown,
            },
            (None, None) => Resolved::Empty { at: None },
            (None, Some(BoolField::Null)) => Resolved::Empty {
                at: found
                    .filter(|_| placed)
                    .map(|(doc, key, value)| self.value_at(doc, key, value)),
            },
            (_, Some(BoolField::True | BoolField::False)) => match found {
                Some((doc, key, value)) => Resolved::Bool {
                    value: reading == Some(BoolField::True),
                    at: placed.then(|| self.value_at(doc, key, value)),
                },
                None => Resolved::Unknown,
            },
            _ => Resolved::Unknown,
        }
    }

    /// Whether `reference` names a collection, and then whether a template
    /// condition holds on it (Go's truth: an empty map or list is false).
    /// `None` for anything else, and when a default or a quote intervenes.
    pub fn collection_truth(&self, reference: &Reference) -> Option<bool> {
        if reference.quoted || reference.default.is_some() || !self.parsed.syntax_errors.is_empty()
        {
            return None;
        }
        let (doc, _, value) = self.lookup(&reference.path)?;
        match &self.parsed.documents[doc].node(value).kind {
            NodeKind::Mapping { entries, .. } => Some(!entries.is_empty()),
            NodeKind::Sequence { items, .. } => Some(!items.is_empty()),
            _ => None,
        }
    }

    /// What `reference` renders to as a name.
    pub fn resolve_text(&self, reference: &Reference) -> Resolved {
        if !self.parsed.syntax_errors.is_empty() {
            return Resolved::Unknown;
        }
        let found = self.lookup(&reference.path);
        let text = found.and_then(|(doc, _, value)| {
            let document = &self.parsed.documents[doc];
            match document.node(value).kind {
                NodeKind::Scalar { .. } => read_string(document, value).map(str::to_string),
                _ => None,
            }
        });
        match (text, found, &reference.default) {
            (Some(value), Some((doc, key, node)), _) if !value.is_empty() => Resolved::Text {
                value,
                at: Some(self.value_at(doc, key, node)),
            },
            (_, _, Some(default)) => Resolved::Text {
                value: default.trim_matches(['"', '`']).to_string(),
                at: None,
            },
            _ => Resolved::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(str::to_string).collect()
    }

    #[test]
    fn references_are_read_in_their_three_forms() {
        assert_eq!(
            reference(".Values.serviceAccount.automount"),
            Some(Reference {
                path: path("serviceAccount.automount"),
                default: None,
                quoted: false,
            })
        );
        assert_eq!(
            reference(".Values.a.b | default false"),
            Some(Reference {
                path: path("a.b"),
                default: Some("false".into()),
                quoted: false,
            })
        );
        assert_eq!(
            reference("default \"x y\" $.Values.a | quote"),
            Some(Reference {
                path: path("a"),
                default: Some("\"x y\"".into()),
                quoted: true,
            })
        );
        for other in [
            "include \"c.sa\" .",
            ".Values.a | upper",
            ".Release.Name",
            ".Values.",
            "default .Values.b .Values.a",
            "toYaml .Values.a",
        ] {
            assert_eq!(reference(other), None, "{other}");
        }
    }

    /// A condition's reading is the field's, its places left out.
    #[test]
    fn booleans_read_without_places_are_read_alike() {
        let values = ValuesFile::new(
            "values.yaml",
            "a:\n  on: true\n  off: false\n  nothing: ~\n  text: x\n  map: {k: 1}\nyes: yes\n",
        );
        let unplaced = |resolved: Resolved| match resolved {
            Resolved::Bool { value, .. } => Resolved::Bool { value, at: None },
            Resolved::Empty { .. } => Resolved::Empty { at: None },
            other => other,
        };
        for body in [
            ".Values.a.on",
            ".Values.a.off",
            ".Values.a.nothing",
            ".Values.a.missing",
            ".Values.a.text",
            ".Values.a.map",
            ".Values.yes",
            ".Values.a.off | default true",
            ".Values.a.nothing | default false",
            ".Values.a.on | quote",
        ] {
            let reference = reference(body).expect("a reference");
            let placed = values.resolve_bool(&reference);
            assert_eq!(
                values.resolve_bool_unplaced(&reference),
                unplaced(placed),
                "{body}"
            );
        }
    }

    #[test]
    fn booleans_resolve_with_their_place_and_defaults() {
        let values = ValuesFile::new(
            "values.yaml",
            "serviceAccount:\n  automount: true\n  off: false\nempty:\n",
        );
        let on = values.resolve_bool(&reference(".Values.serviceAccount.automount").unwrap());
        let Resolved::Bool {
            value: true,
            at: Some(at),
        } = on
        else {
            panic!("{on:?}")
        };
        assert_eq!(&values.text[at.range.start..at.range.end], "true");
        assert_eq!(at.fix.file.as_deref(), Some("values.yaml"));
        let fixed = crate::apply_edits(&values.text, &at.fix.edits);
        assert!(fixed.contains("automount: false"), "{fixed}");

        let resolve = |body: &str| values.resolve_bool(&reference(body).unwrap());
        assert!(matches!(
            resolve(".Values.serviceAccount.off"),
            Resolved::Bool { value: false, .. }
        ));
        // `default` replaces false too: the template's well-known trap.
        assert_eq!(
            resolve(".Values.serviceAccount.off | default true"),
            Resolved::Bool {
                value: true,
                at: None
            }
        );
        assert_eq!(
            resolve("default false .Values.missing"),
            Resolved::Bool {
                value: false,
                at: None
            }
        );
        assert_eq!(resolve(".Values.missing"), Resolved::Empty { at: None });
        assert!(matches!(
            resolve(".Values.empty"),
            Resolved::Empty { at: Some(_) }
        ));
        assert_eq!(resolve(".Values.serviceAccount"), Resolved::Unknown);
    }

    #[test]
    fn names_resolve() {
        let values = ValuesFile::new("v", "serviceAccount:\n  name: ci\n  blank: \"\"\n");
        let resolve = |body: &str| values.resolve_text(&reference(body).unwrap());
        assert!(
            matches!(resolve(".Values.serviceAccount.name"), Resolved::Text { value, .. } if value == "ci")
        );
        assert!(
            matches!(resolve(".Values.serviceAccount.blank | default \"d\""), Resolved::Text { value, at: None } if value == "d")
        );
        assert_eq!(resolve(".Values.serviceAccount.blank"), Resolved::Unknown);
    }

    #[test]
    fn broken_values_resolve_to_nothing() {
        let values = ValuesFile::new("v", "a: [\n");
        assert_eq!(
            values.resolve_bool(&reference(".Values.a").unwrap()),
            Resolved::Unknown
        );
    }
}
