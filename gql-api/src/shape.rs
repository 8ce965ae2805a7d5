//! The shape of a request before it runs: how many root fields and aliases its operation asks
//! for, and the names of its root fields (the audit log names an unnamed operation by them).
//!
//! The engine's complexity limit weighs each field, but every alias of a root field is one more
//! independent piece of work run concurrently, so their number is limited on its own.

use std::collections::HashSet;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};

/// At most this many root field names are kept for the audit log.
pub const MAX_NAMES: usize = 32;

/// Fragments spread inside fragments are followed this deep at most.
const MAX_FRAGMENT_DEPTH: usize = 32;

/// What a request's operation asks for at its root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    /// `query`, `mutation` or `subscription`.
    pub kind: &'static str,
    /// Root fields, fragments expanded; counting stops just past the limit it was given.
    pub root_fields: usize,
    /// The distinct names (not aliases) of the root fields, in order, at most [`MAX_NAMES`].
    pub root_names: Vec<String>,
    /// Aliased fields written anywhere in the operation and the fragments of the document
    /// (each written field once).
    pub aliases: usize,
}

/// The shape of the operation a request runs, or `None` when the query does not parse or names
/// no operation of its document (the engine then reports why).
pub fn of(query: &str, operation: Option<&str>, max_root_fields: usize) -> Option<Shape> {
    let doc = async_graphql::parser::parse_query(query).ok()?;
    let op = match (&doc.operations, operation) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name)?,
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next()?,
        (DocumentOperations::Multiple(_), None) => return None,
    };
    let mut shape = Shape {
        kind: match op.node.ty {
            async_graphql::parser::types::OperationType::Query => "query",
            async_graphql::parser::types::OperationType::Mutation => "mutation",
            async_graphql::parser::types::OperationType::Subscription => "subscription",
        },
        ..Shape::default()
    };
    let mut names = HashSet::new();
    let mut stack = Vec::new();
    root(
        &doc,
        &op.node.selection_set.node,
        max_root_fields,
        &mut shape,
        &mut names,
        &mut stack,
    );
    shape.aliases = aliases(&op.node.selection_set.node)
        + doc
            .fragments
            .values()
            .map(|f| aliases(&f.node.selection_set.node))
            .sum::<usize>();
    Some(shape)
}

/// Counts the root fields of `set`, through fragments (each spread where it is used), stopping
/// once past `max`.
fn root<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    max: usize,
    shape: &mut Shape,
    names: &mut HashSet<&'a str>,
    stack: &mut Vec<&'a str>,
) {
    for item in &set.items {
        if shape.root_fields > max {
            return;
        }
        match &item.node {
            Selection::Field(f) => {
                shape.root_fields += 1;
                let name = f.node.name.node.as_str();
                if shape.root_names.len() < MAX_NAMES && names.insert(name) {
                    shape.root_names.push(name.to_owned());
                }
            }
            Selection::InlineFragment(f) => {
                root(doc, &f.node.selection_set.node, max, shape, names, stack);
            }
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                // A fragment spread inside itself is refused by the engine later; a very long
                // chain of fragments is not followed past a depth no real query needs.
                if stack.contains(&name) || stack.len() >= MAX_FRAGMENT_DEPTH {
                    continue;
                }
                if let Some(f) = doc.fragments.get(&s.node.fragment_name.node) {
                    stack.push(name);
                    root(doc, &f.node.selection_set.node, max, shape, names, stack);
                    stack.pop();
                }
            }
        }
    }
}

/// Aliased fields written in `set` and below it (fragment spreads are counted where defined).
fn aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + aliases(&f.node.selection_set.node)
            }
            Selection::InlineFragment(f) => aliases(&f.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_fields_are_counted_through_fragments_and_named() {
        let s = of(
            "query Q { a: me { name } b: me { name } ...F ... on Query { market { accounts } } } \
             fragment F on Query { controlGroups { totalCount } x: market { groups } }",
            None,
            100,
        )
        .unwrap();
        assert_eq!(s.kind, "query");
        assert_eq!(s.root_fields, 5);
        assert_eq!(s.root_names, ["me", "controlGroups", "market"]);
        assert_eq!(s.aliases, 3);
    }

    #[test]
    fn counting_stops_past_the_limit_and_survives_cycles() {
        let many = format!(
            "{{ {} }}",
            (0..500)
                .map(|i| format!("n{i}: neighborhood(id: \"M0001\") {{ nodes {{ id }} }}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let s = of(&many, None, 32).unwrap();
        assert_eq!(s.root_fields, 33);
        assert_eq!(s.aliases, 500);
        // A fragment that spreads itself (the engine refuses it later) is not followed forever.
        let s = of(
            "{ ...F } fragment F on Query { me { name } ...F }",
            None,
            32,
        )
        .unwrap();
        assert_eq!(s.root_fields, 1);
        let s = of(
            "mutation M { reviewGroup(id: \"G1\", decision: CONFIRMED) { at } } query Q { me { name } }",
            Some("M"),
            32,
        )
        .unwrap();
        assert_eq!(
            (s.kind, s.root_names.as_slice()),
            ("mutation", &["reviewGroup".to_owned()][..])
        );
        assert!(of("{ me {", None, 32).is_none());
    }
}
