//! Loading the property graph from a store.

use graph_core::model::Table;
use graph_core::{GraphBuilder, PropertyGraph};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::store::{Store, StoreError};

/// Builds the graph from every record table of a store, node tables first. References the builder
/// cannot resolve are logged (a validated store has none).
pub fn load_graph(store: &dyn Store, progress: bool) -> Result<PropertyGraph, StoreError> {
    // The surveillance tapes are not graph data; reading them here would only cost time.
    let tables: Vec<Table> = Table::ALL
        .iter()
        .copied()
        .filter(|t| !t.is_surveillance())
        .collect();
    let mut total = 0;
    for t in &tables {
        total += store.count(*t)?;
    }
    let pb = if progress {
        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    pb.set_style(
        ProgressStyle::with_template("{msg:>20} [{bar:30}] {pos}/{len} rows {per_sec} eta {eta}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    let mut b = GraphBuilder::new();
    for t in &tables {
        pb.set_message(format!("loading {}", t.as_str()));
        let mut n = 0u64;
        store.scan(*t, &mut |r| {
            b.add_record(&r);
            n += 1;
            if n.is_multiple_of(65_536) {
                pb.inc(65_536);
            }
            Ok(())
        })?;
        pb.inc(n % 65_536);
    }
    if !b.unresolved().is_empty() {
        tracing::warn!(
            count = b.unresolved().len(),
            first = ?b.unresolved().first(),
            "records name ids that no node record defines; their edges are left out"
        );
    }
    pb.finish_and_clear();
    Ok(b.finish())
}
