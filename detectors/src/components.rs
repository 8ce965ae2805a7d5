//! Connected components by union-find: the joining step of group assembly (anchors of hard ties)
//! and of any caller that needs the components of a plain edge list.
//!
//! Union by smaller root with full path compression: the root of a set is its smallest node, so
//! the labels do not depend on the order in which edges are met, and every `find` flattens the
//! path it walked.

/// Disjoint sets over the nodes `0..n`.
#[derive(Debug, Clone)]
pub struct UnionFind(Vec<u32>);

impl UnionFind {
    /// `n` singleton sets.
    pub fn new(n: usize) -> Self {
        Self((0..n as u32).collect())
    }

    /// The root of `x`'s set: its smallest node. Compresses the path to it.
    pub fn find(&mut self, x: u32) -> u32 {
        let mut r = x;
        while self.0[r as usize] != r {
            r = self.0[r as usize];
        }
        let mut y = x;
        while self.0[y as usize] != r {
            let next = self.0[y as usize];
            self.0[y as usize] = r;
            y = next;
        }
        r
    }

    /// Joins the sets of `a` and `b`; true when they were apart.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.0[hi as usize] = lo;
        true
    }
}

/// The connected components of the undirected graph on `0..n` given by `edges`: the component
/// of each node, numbered `0..k` in order of each component's smallest node, and `k`.
///
/// # Panics
/// When an edge names a node `>= n`.
pub fn connected_components(n: usize, edges: &[(u32, u32)]) -> (Vec<u32>, usize) {
    let mut sets = UnionFind::new(n);
    for &(a, b) in edges {
        sets.union(a, b);
    }
    let mut label = vec![u32::MAX; n];
    let mut k = 0u32;
    for v in 0..n as u32 {
        let r = sets.find(v);
        // A root is its set's smallest node, so it is labelled before any other member.
        if label[r as usize] == u32::MAX {
            label[r as usize] = k;
            k += 1;
        }
        label[v as usize] = label[r as usize];
    }
    (label, k as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_numbered_by_their_smallest_node() {
        let (label, k) = connected_components(7, &[(5, 1), (3, 4), (1, 0), (6, 6)]);
        assert_eq!(k, 4);
        assert_eq!(label, vec![0, 0, 1, 2, 2, 0, 3]);
    }

    #[test]
    fn union_reports_whether_sets_were_apart() {
        let mut s = UnionFind::new(3);
        assert!(s.union(2, 1));
        assert!(!s.union(1, 2));
        assert_eq!(s.find(2), 1);
        assert_eq!(connected_components(0, &[]), (Vec::new(), 0));
    }
}
