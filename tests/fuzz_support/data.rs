//! What fix-all and ignore comments must leave alone, as comparable data:
//! shared by the fuzz targets (`fuzz/src/lib.rs`) and the regression tests
//! that replay their crashes (`tests/fuzz_regressions.rs`), so both check
//! exactly the same property.

use std::collections::HashMap;

use tokenguard_analysis::{parse, NodeId, NodeKind, ScalarStyle, FIELD};

/// The data of every document, without positions: what a comment must not
/// change.
pub fn data_of(text: &str) -> Vec<Vec<(NodeKind, usize, Option<String>)>> {
    parse(text, tokenguard_analysis::Options::builtin())
        .documents
        .into_iter()
        .map(|d| {
            d.nodes
                .into_iter()
                .map(|n| (n.kind, n.anchor, n.tag))
                .collect()
        })
        .collect()
}

/// The data of every document with every `automountServiceAccountToken`
/// entry left out: what fix-all must not change.
pub fn data_besides_the_field(text: &str) -> Vec<String> {
    parse(text, tokenguard_analysis::Options::builtin())
        .documents
        .iter()
        .map(|doc| {
            let mut out = String::new();
            // Anchors by order of appearance: the parser numbers every anchor
            // of the document in text order, so replacing a value that holds
            // anchors renumbers all later ones without changing any data.
            let mut anchors: HashMap<usize, usize> = HashMap::new();
            let mut renumber = |anchor: usize| match anchor {
                0 => 0,
                _ => {
                    let next = anchors.len() + 1;
                    *anchors.entry(anchor).or_insert(next)
                }
            };
            // Nodes to write, and closing brackets, in order (no recursion).
            let mut todo: Vec<Result<NodeId, &str>> = doc.root.map(Ok).into_iter().collect();
            while let Some(next) = todo.pop() {
                let id = match next {
                    Ok(id) => id,
                    Err(close) => {
                        out.push_str(close);
                        continue;
                    }
                };
                let node = doc.node(id);
                out.push_str(&format!("&{}!{:?}", renumber(node.anchor), node.tag));
                match &node.kind {
                    NodeKind::Scalar { value, style } => {
                        out.push_str(&format!("{:?}{value:?} ", *style == ScalarStyle::Plain));
                    }
                    // By anchor: node ids move when a fix adds nodes.
                    NodeKind::Alias { target } => {
                        let anchor = target.map(|t| renumber(doc.node(t).anchor));
                        out.push_str(&format!("*{anchor:?} "));
                    }
                    NodeKind::Mapping { flow, entries } => {
                        out.push_str(if *flow { "{" } else { "M(" });
                        todo.push(Err(") "));
                        let kept = entries.iter().filter(|&&(k, _)| {
                            !matches!(&doc.node(k).kind, NodeKind::Scalar { value, .. } if value == FIELD)
                        });
                        for &(k, v) in kept.rev() {
                            todo.push(Ok(v));
                            todo.push(Ok(k));
                        }
                    }
                    NodeKind::Sequence { flow, items } => {
                        out.push_str(if *flow { "[" } else { "S(" });
                        todo.push(Err(") "));
                        todo.extend(items.iter().rev().map(|&i| Ok(i)));
                    }
                }
            }
            out
        })
        .collect()
}
