//! Reading nodes the way Kubernetes' YAML 1.1 decoder reads them.

use crate::tree::{Document, NodeId, NodeKind, ScalarStyle};

const TAG_BOOL: &str = "tag:yaml.org,2002:bool";
const TAG_STR: &str = "tag:yaml.org,2002:str";
const TAG_NULL: &str = "tag:yaml.org,2002:null";
const TAG_INT: &str = "tag:yaml.org,2002:int";
const TAG_FLOAT: &str = "tag:yaml.org,2002:float";

/// What a value decodes to, as far as a boolean field cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoolField {
    False,
    True,
    Null,
    /// Any other type: the API server refuses the manifest.
    NotBoolean(ValueType),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    QuotedString,
    String,
    Number,
    Sequence,
    Mapping,
}

impl ValueType {
    pub fn describe(self) -> &'static str {
        match self {
            ValueType::QuotedString => "a quoted string",
            ValueType::String => "a string",
            ValueType::Number => "a number",
            ValueType::Sequence => "a sequence",
            ValueType::Mapping => "a mapping",
        }
    }
}

/// YAML 1.1 boolean words, as Kubernetes decodes plain scalars.
pub fn yaml11_bool(word: &str) -> Option<bool> {
    match word {
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => {
            Some(false)
        }
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
            Some(true)
        }
        _ => None,
    }
}

pub fn yaml11_null(word: &str) -> bool {
    matches!(word, "" | "~" | "null" | "Null" | "NULL")
}

/// Whether a plain scalar reads as an int or float in YAML 1.1.
pub fn yaml11_number(word: &str) -> bool {
    let w = word.strip_prefix(['+', '-']).unwrap_or(word);
    if w.is_empty() {
        return false;
    }
    if matches!(w, ".inf" | ".Inf" | ".INF") || matches!(word, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    if let Some(hex) = w.strip_prefix("0x") {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit() || c == '_');
    }
    if let Some(bin) = w.strip_prefix("0b") {
        return !bin.is_empty() && bin.chars().all(|c| matches!(c, '0' | '1' | '_'));
    }
    // Decimal, octal, float and sexagesimal forms share these characters.
    let mut digits = 0;
    let mut dots = 0;
    let mut exponent = false;
    let mut prev = ' ';
    for c in w.chars() {
        match c {
            '0'..='9' => digits += 1,
            '_' | ':' => {}
            '.' => dots += 1,
            'e' | 'E' if digits > 0 && !exponent => exponent = true,
            '+' | '-' if matches!(prev, 'e' | 'E') => {}
            _ => return false,
        }
        prev = c;
    }
    digits > 0 && dots <= 1
}

/// Reads a boolean field such as `automountServiceAccountToken`.
pub fn read_bool_field(doc: &Document, id: NodeId) -> BoolField {
    let node = doc.node(doc.resolve(id));
    match &node.kind {
        NodeKind::Mapping { .. } => BoolField::NotBoolean(ValueType::Mapping),
        NodeKind::Sequence { .. } => BoolField::NotBoolean(ValueType::Sequence),
        // An alias to something not seen before: the parser would reject it.
        NodeKind::Alias { .. } => BoolField::NotBoolean(ValueType::String),
        NodeKind::Scalar { value, style } => match node.tag.as_deref() {
            Some(TAG_BOOL) => match yaml11_bool(value) {
                Some(true) => BoolField::True,
                Some(false) => BoolField::False,
                None => BoolField::NotBoolean(ValueType::String),
            },
            Some(TAG_STR) => BoolField::NotBoolean(ValueType::String),
            Some(TAG_NULL) => BoolField::Null,
            Some(TAG_INT | TAG_FLOAT) => BoolField::NotBoolean(ValueType::Number),
            // Any other tag (`!custom false`, `! false`, `!!timestamp`): the
            // decoder leaves the scalar undecoded, a string.
            Some(_) => BoolField::NotBoolean(ValueType::String),
            _ if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) => {
                BoolField::NotBoolean(ValueType::String)
            }
            _ if *style != ScalarStyle::Plain => BoolField::NotBoolean(ValueType::QuotedString),
            _ => match yaml11_bool(value) {
                Some(true) => BoolField::True,
                Some(false) => BoolField::False,
                None if yaml11_null(value) => BoolField::Null,
                None if yaml11_number(value) => BoolField::NotBoolean(ValueType::Number),
                None => BoolField::NotBoolean(ValueType::String),
            },
        },
    }
}

/// The text of a string field (`kind`, `metadata.name`), or `None` for null
/// and for collections.
pub fn read_string(doc: &Document, id: NodeId) -> Option<&str> {
    let node = doc.node(doc.resolve(id));
    match &node.kind {
        NodeKind::Scalar { value, style } => {
            let null = *style == ScalarStyle::Plain && yaml11_null(value)
                || node.tag.as_deref() == Some(TAG_NULL);
            (!null).then_some(value.as_str())
        }
        _ => None,
    }
}

/// The mapping's value for `key`: the last entry with that key wins, as in
/// Kubernetes' decoder; merge keys (`<<: *base`) supply keys the mapping does
/// not have itself. Returns the (key, value) nodes.
pub fn get(doc: &Document, mapping: NodeId, key: &str) -> Option<(NodeId, NodeId)> {
    // Merge chains are followed a bounded number of steps: no alias can make
    // this loop or expand.
    let mut pending = vec![doc.resolve(mapping)];
    let mut steps = 0;
    while let Some(m) = pending.pop() {
        steps += 1;
        if steps > 64 {
            break;
        }
        let NodeKind::Mapping { entries, .. } = &doc.node(m).kind else {
            continue;
        };
        if let Some(&entry) = entries.iter().rev().find(|&&(k, _)| scalar_is(doc, k, key)) {
            return Some(entry);
        }
        // Earlier merge sources take precedence, so they go on the stack last.
        let mut sources = Vec::new();
        for &(k, v) in entries {
            if scalar_is(doc, k, "<<") && is_plain(doc, k) {
                // `<<: *base`, `<<: {inline: mapping}`, or a sequence of those.
                match &doc.node(v).kind {
                    NodeKind::Sequence { items, .. } => {
                        sources.extend(items.iter().map(|&i| doc.resolve(i)))
                    }
                    _ => sources.push(doc.resolve(v)),
                }
            }
        }
        pending.extend(sources.into_iter().rev());
    }
    None
}

/// How many entries of the mapping itself (merged keys not counted) have
/// `key`: more than one is a duplicate, which Kubernetes' decoder resolves by
/// keeping the last.
pub fn count_keys(doc: &Document, mapping: NodeId, key: &str) -> usize {
    match &doc.node(doc.resolve(mapping)).kind {
        NodeKind::Mapping { entries, .. } => entries
            .iter()
            .filter(|&&(k, _)| scalar_is(doc, k, key))
            .count(),
        _ => 0,
    }
}

/// Like [`get`], for a value that must be a mapping (not an alias to one).
pub fn get_mapping(doc: &Document, mapping: NodeId, key: &str) -> Option<(NodeId, NodeId)> {
    get(doc, mapping, key).filter(|&(_, v)| matches!(doc.node(v).kind, NodeKind::Mapping { .. }))
}

/// A string field of a mapping.
pub fn get_string<'d>(doc: &'d Document, mapping: NodeId, key: &str) -> Option<&'d str> {
    get(doc, mapping, key).and_then(|(_, v)| read_string(doc, v))
}

fn scalar_is(doc: &Document, id: NodeId, text: &str) -> bool {
    matches!(&doc.node(id).kind, NodeKind::Scalar { value, .. } if value == text)
}

fn is_plain(doc: &Document, id: NodeId) -> bool {
    matches!(
        &doc.node(id).kind,
        NodeKind::Scalar {
            style: ScalarStyle::Plain,
            ..
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml11_booleans_are_read_like_kubernetes() {
        for w in [
            "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N",
        ] {
            assert_eq!(yaml11_bool(w), Some(false), "{w}");
        }
        for w in [
            "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y",
        ] {
            assert_eq!(yaml11_bool(w), Some(true), "{w}");
        }
        for w in ["fAlse", "0", "1", "", "nO", "false "] {
            assert_eq!(yaml11_bool(w), None, "{w}");
        }
    }

    #[test]
    fn yaml11_nulls() {
        for w in ["", "~", "null", "Null", "NULL"] {
            assert!(yaml11_null(w), "{w}");
        }
        assert!(!yaml11_null("nULL"));
    }

    #[test]
    fn yaml11_numbers() {
        for w in [
            "0",
            "1",
            "-3",
            "+7",
            "0x1F",
            "017",
            "1.5",
            "1e3",
            "6.8523015e+5",
            ".inf",
            "-.inf",
            ".nan",
            "1_000",
            "190:20:30",
        ] {
            assert!(yaml11_number(w), "{w}");
        }
        for w in ["abc", "1.2.3", "e3", "-", "0x", "1a"] {
            assert!(!yaml11_number(w), "{w}");
        }
    }
}

#[cfg(test)]
mod tag_tests {
    use super::*;
    use crate::parse;

    fn automount(value: &str) -> BoolField {
        let parsed = parse(
            &format!("kind: Pod\nspec:\n  automountServiceAccountToken: {value}\n"),
            crate::Options::builtin(),
        );
        let (_, workload) = &parsed.workloads[0];
        let doc = &parsed.documents[0];
        let (_, v) = get(doc, workload.pod_spec, "automountServiceAccountToken").unwrap();
        read_bool_field(doc, v)
    }

    #[test]
    fn core_tags_decide_the_type() {
        assert_eq!(automount("!!bool false"), BoolField::False);
        assert_eq!(automount("!!bool yes"), BoolField::True);
        assert_eq!(
            automount("!!str false"),
            BoolField::NotBoolean(ValueType::String)
        );
        assert_eq!(automount("!!null"), BoolField::Null);
        assert_eq!(
            automount("!!int 0"),
            BoolField::NotBoolean(ValueType::Number)
        );
    }

    /// go-yaml resolves only the core scalar tags; a scalar with any other
    /// tag keeps its text, so the API server sees the string "false".
    #[test]
    fn other_tags_leave_a_string() {
        for value in [
            "!custom false",
            "! false",
            "!!timestamp false",
            "!<!x> false",
        ] {
            assert_eq!(
                automount(value),
                BoolField::NotBoolean(ValueType::String),
                "{value}"
            );
        }
    }
}

#[cfg(test)]
mod merge_tests {
    use crate::{analyze, NoAccounts};

    #[test]
    fn merge_keys_supply_the_field_from_aliases_and_inline_mappings() {
        for spec in [
            "spec: {<<: {automountServiceAccountToken: false}, containers: []}",
            "spec: {<<: [{automountServiceAccountToken: false}], containers: []}",
            "spec:\n  <<: *off\n  containers: []",
            "spec:\n  <<: [*other, *off]\n  containers: []",
        ] {
            let text = format!("x: &off {{automountServiceAccountToken: false}}\ny: &other {{a: 1}}\nkind: Pod\n{spec}\n");
            assert!(
                analyze(&text, &NoAccounts, crate::Options::builtin()).is_empty(),
                "{text}"
            );
        }
    }

    #[test]
    fn the_pod_spec_own_key_wins_over_a_merged_one() {
        let text = "x: &off {automountServiceAccountToken: false}\nkind: Pod\nspec:\n  <<: *off\n  automountServiceAccountToken: true\n";
        assert_eq!(
            analyze(text, &NoAccounts, crate::Options::builtin()).len(),
            1
        );
    }
}
