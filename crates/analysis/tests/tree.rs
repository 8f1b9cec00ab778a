//! The position-preserving tree: every node's range is its exact text.

use tokenguard_analysis::{parse, Document, NodeId, NodeKind, ScalarStyle};

/// The text of the value of `key` in the root mapping of document `doc`.
fn value_text<'t>(text: &'t str, doc: &Document, key: &str) -> &'t str {
    let node = doc.node(value_of(doc, doc.root.unwrap(), key));
    &text[node.range.start..node.range.end]
}

fn value_of(doc: &Document, mapping: NodeId, key: &str) -> NodeId {
    let NodeKind::Mapping { entries, .. } = &doc.node(mapping).kind else {
        panic!("not a mapping");
    };
    entries
        .iter()
        .find(|(k, _)| matches!(&doc.node(*k).kind, NodeKind::Scalar { value, .. } if value == key))
        .map(|&(_, v)| v)
        .unwrap_or_else(|| panic!("no key {key}"))
}

fn style_of(doc: &Document, key: &str) -> ScalarStyle {
    match &doc.node(value_of(doc, doc.root.unwrap(), key)).kind {
        NodeKind::Scalar { style, .. } => *style,
        other => panic!("{other:?}"),
    }
}

#[test]
fn scalar_ranges_cover_exactly_their_text_in_every_style() {
    let text = concat!(
        "plain: some words # comment\n",
        "single: 'it''s'  \n",
        "double: \"say \\\"hi\\\"\"\n",
        "multi: first\n  second line\n",
        "literal: |\n  one\n  two\n\n",
        "folded: >-\n    a\n    b\n# trailing comment\n",
        "empty:\n",
        "bare: |\n",
        "last: x\n",
    );
    let parsed = parse(text, tokenguard_analysis::Options::builtin());
    let doc = &parsed.documents[0];
    assert_eq!(value_text(text, doc, "plain"), "some words");
    assert_eq!(value_text(text, doc, "single"), "'it''s'");
    assert_eq!(value_text(text, doc, "double"), "\"say \\\"hi\\\"\"");
    assert_eq!(value_text(text, doc, "multi"), "first\n  second line");
    assert_eq!(value_text(text, doc, "literal"), "|\n  one\n  two");
    assert_eq!(value_text(text, doc, "folded"), ">-\n    a\n    b");
    assert_eq!(value_text(text, doc, "empty"), "");
    assert_eq!(value_text(text, doc, "bare"), "|");
    let empty = doc
        .node(value_of(doc, doc.root.unwrap(), "empty"))
        .range
        .start;
    assert_eq!(&text[..empty], &text[..text.find("empty:").unwrap() + 6]);
    assert_eq!(style_of(doc, "plain"), ScalarStyle::Plain);
    assert_eq!(style_of(doc, "single"), ScalarStyle::SingleQuoted);
    assert_eq!(style_of(doc, "double"), ScalarStyle::DoubleQuoted);
    assert_eq!(style_of(doc, "literal"), ScalarStyle::Literal);
    assert_eq!(style_of(doc, "folded"), ScalarStyle::Folded);
}

#[test]
fn collections_know_flow_from_block_and_their_extent() {
    let text = "flow: {a: [1, 2], b: {}}\nblock:\n  k: v\n  seq:\n  - x\n  - y\nafter: 1\n";
    let parsed = parse(text, tokenguard_analysis::Options::builtin());
    let doc = &parsed.documents[0];
    assert_eq!(value_text(text, doc, "flow"), "{a: [1, 2], b: {}}");
    assert_eq!(value_text(text, doc, "block"), "k: v\n  seq:\n  - x\n  - y");
    let block = value_of(doc, doc.root.unwrap(), "block");
    let seq = value_of(doc, block, "seq");
    assert_eq!(
        &text[doc.node(seq).range.start..doc.node(seq).range.end],
        "- x\n  - y"
    );
    assert!(matches!(
        doc.node(seq).kind,
        NodeKind::Sequence { flow: false, .. }
    ));
    let flow = value_of(doc, doc.root.unwrap(), "flow");
    assert!(matches!(
        doc.node(flow).kind,
        NodeKind::Mapping { flow: true, .. }
    ));
    assert!(matches!(
        doc.node(block).kind,
        NodeKind::Mapping { flow: false, .. }
    ));
}

#[test]
fn a_sequence_at_its_key_indentation_starts_at_its_dash_even_with_empty_items() {
    // yaml-rust2 points such a sequence's start just after its `-` (found by
    // fuzzing: its empty first item was placed on the next line).
    let text = "a: !s\n-\nb:\n- x # a-b\n-\nc: 1\n";
    let doc = &parse(text, tokenguard_analysis::Options::builtin()).documents[0];
    assert_eq!(value_text(text, doc, "a"), "-");
    assert_eq!(value_text(text, doc, "b"), "- x # a-b\n-");
    let NodeKind::Sequence { items, .. } = &doc.node(value_of(doc, doc.root.unwrap(), "b")).kind
    else {
        panic!("not a sequence");
    };
    // The empty item sits after its own `-`, not after the one in the comment.
    assert_eq!(
        doc.node(items[1]).range.start,
        text.rfind("-\nc").unwrap() + 1
    );
}

#[test]
fn anchors_tags_and_aliases_are_kept_not_expanded() {
    let text = "base: &b {x: 1}\ncopy: *b\ntyped: !!str false\n";
    let parsed = parse(text, tokenguard_analysis::Options::builtin());
    let doc = &parsed.documents[0];
    let base = value_of(doc, doc.root.unwrap(), "base");
    let copy = value_of(doc, doc.root.unwrap(), "copy");
    assert_ne!(doc.node(base).anchor, 0);
    assert_eq!(value_text(text, doc, "copy"), "*b");
    assert_eq!(doc.node(copy).kind, NodeKind::Alias { target: Some(base) });
    assert_eq!(doc.resolve(copy), base);
    let typed = value_of(doc, doc.root.unwrap(), "typed");
    assert_eq!(
        doc.node(typed).tag.as_deref(),
        Some("tag:yaml.org,2002:str")
    );
    assert_eq!(value_text(text, doc, "typed"), "false");
}

#[test]
fn positions_after_multibyte_text_are_byte_exact() {
    let text = "a: \"日本語 é\" # b\nname: ünïcødé\nx: {k: \"é\", spec: 1}\n";
    let parsed = parse(text, tokenguard_analysis::Options::builtin());
    let doc = &parsed.documents[0];
    assert_eq!(value_text(text, doc, "name"), "ünïcødé");
    let x = value_of(doc, doc.root.unwrap(), "x");
    let spec = value_of(doc, x, "spec");
    assert_eq!(doc.node(spec).range.start, text.rfind('1').unwrap());
    let (line, col) = parsed
        .line_index
        .line_col_chars(text, doc.node(spec).range.start);
    assert_eq!((line, col), (2, 18));
}

#[test]
fn byte_order_mark_is_stripped_and_counted() {
    let text = "\u{feff}kind: Pod\nname: x\n";
    let parsed = parse(text, tokenguard_analysis::Options::builtin());
    assert!(parsed.syntax_errors.is_empty());
    let doc = &parsed.documents[0];
    assert_eq!(value_text(text, doc, "kind"), "Pod");
    assert_eq!(
        doc.node(value_of(doc, doc.root.unwrap(), "kind"))
            .range
            .start,
        3 + 6
    );
}

#[test]
fn crlf_and_lone_cr_line_endings_keep_exact_ranges() {
    for eol in ["\r\n", "\r"] {
        let text = format!("a: 1{eol}b:{eol}  c: two words{eol}d: |{eol}  x{eol}  y{eol}e: 2{eol}");
        let parsed = parse(&text, tokenguard_analysis::Options::builtin());
        let doc = &parsed.documents[0];
        assert_eq!(value_text(&text, doc, "b"), "c: two words", "{eol:?}");
        assert_eq!(
            value_text(&text, doc, "d"),
            format!("|{eol}  x{eol}  y"),
            "{eol:?}"
        );
        assert_eq!(value_text(&text, doc, "e"), "2");
        let e = doc.node(value_of(doc, doc.root.unwrap(), "e")).range.start;
        assert_eq!(parsed.line_index.line_col_chars(&text, e), (6, 3));
    }
}

#[test]
fn every_document_is_parsed_on_its_own() {
    let text = "a: 1\n---\nb: [oops\n---\nc: 3\n";
    let parsed = parse(text, tokenguard_analysis::Options::builtin());
    assert_eq!(parsed.documents.len(), 2);
    assert_eq!(parsed.syntax_errors.len(), 1);
    let error = &parsed.syntax_errors[0];
    assert!(parsed.line_index.line_of(error.range.start) >= 2);
    assert_eq!(value_text(text, &parsed.documents[1], "c"), "3");
}

#[test]
fn a_document_of_only_markers_and_comments_is_empty_not_an_error() {
    let parsed = parse(
        "---\n# nothing\n...\n---\n",
        tokenguard_analysis::Options::builtin(),
    );
    assert!(parsed.documents.iter().all(|d| d.root.is_none()));
    assert!(parsed.syntax_errors.is_empty());
}

#[test]
fn very_deep_nesting_is_reported_not_overflowed() {
    let flow = "[".repeat(100_000);
    let parsed = parse(&flow, tokenguard_analysis::Options::builtin());
    assert_eq!(parsed.syntax_errors.len(), 1);

    let block = format!("{}x\n", "- ".repeat(100_000));
    let parsed = parse(&block, tokenguard_analysis::Options::builtin());
    assert_eq!(parsed.syntax_errors.len(), 1, "{:?}", parsed.syntax_errors);

    let mappings: String = (0..100_000).map(|_| "{a: ").collect();
    let parsed = parse(&mappings, tokenguard_analysis::Options::builtin());
    assert_eq!(parsed.syntax_errors.len(), 1);
}

#[test]
fn service_accounts_reads_the_same_accounts_as_parse() {
    let text = "kind: ServiceAccount\nmetadata: {name: a}\n---\nkind: RoleBinding\nsubjects: [{kind: ServiceAccount, name: a}]\n---\nkind: List\nitems:\n- kind: ServiceAccount\n  metadata: {name: b, namespace: x}\n  automountServiceAccountToken: false\n---\nkind: [broken\n";
    assert_eq!(
        tokenguard_analysis::service_accounts(text),
        parse(text, tokenguard_analysis::Options::builtin()).accounts
    );
    assert_eq!(
        parse(text, tokenguard_analysis::Options::builtin())
            .accounts
            .len(),
        2
    );
}
