//! Splitting a community along its members' relationship embeddings.
//!
//! Community detection on the account graph merges groups that one strong edge joins: two
//! families of accounts, each under its own controller, that once traded with each other. Their
//! FastRP embeddings still tell them apart, because each family shares its holder, terminal and
//! order placer internally. This module clusters a community's embeddings with linfa and returns
//! the parts when they are clearly separate, and the community whole when they are not.
//!
//! "Clearly separate" has two tests. The clustering itself must find more than one part of at
//! least [`SplitConfig::min_part`] members (DBSCAN only links points closer than
//! [`SplitMethod::Dbscan::max_cosine_distance`]; k-means always finds `k`), and the parts must
//! have a mean silhouette (Rousseeuw 1987, with cosine distance) of at least
//! [`SplitConfig::min_silhouette`], so that k-means cutting a tight group in two is rejected.
//!
//! Vectors are L2-normalised first, so the Euclidean distance linfa computes is a function of the
//! cosine: `‖a − b‖² = 2 (1 − cos(a, b))`.

use graph_core::NodeId;
use linfa::DatasetBase;
use linfa::traits::{Fit, Predict, Transformer};
use linfa_clustering::{Dbscan, KMeans};
use linfa_nn::LinearSearch;
use linfa_nn::distance::L2Dist;
use ndarray::Array2;
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::SeedableRng;

use crate::embed::Embeddings;

/// Above this many members the silhouette is estimated on an evenly spaced sample of them.
const SILHOUETTE_SAMPLE: usize = 1000;

/// How [`split_by_embedding`] clusters the embeddings.
#[derive(Debug, Clone, PartialEq)]
pub enum SplitMethod {
    /// DBSCAN (Ester et al. 1996): members within `max_cosine_distance` (`1 − cos`) of each other
    /// are neighbours; a member with at least `min_points` neighbours (itself included) is a core
    /// member, and chains of core members form the parts. The number of parts is found, not given.
    Dbscan {
        /// Neighbourhood radius in cosine distance, in `(0, 2]`.
        max_cosine_distance: f32,
        /// Core-member threshold, at least 2.
        min_points: usize,
    },
    /// k-means (k-means++ initialisation, best of 10 runs) into `k` parts; the silhouette test
    /// decides whether the split stands.
    KMeans {
        /// Number of parts, at least 2 (clamped to the number of members).
        k: usize,
    },
}

/// The parameters of [`split_by_embedding`].
#[derive(Debug, Clone, PartialEq)]
pub struct SplitConfig {
    /// The clustering method.
    pub method: SplitMethod,
    /// Communities with fewer embedded members than this are returned whole.
    pub min_size: usize,
    /// Parts smaller than this are not kept: their members join the part of their most similar
    /// member elsewhere. DBSCAN's noise members are handled the same way.
    pub min_part: usize,
    /// The lowest mean silhouette (cosine distance) at which a split is accepted, in `[-1, 1]`.
    pub min_silhouette: f32,
    /// Seed for k-means.
    pub seed: u64,
}

impl Default for SplitConfig {
    /// DBSCAN with radius 0.4 (cosine ≥ 0.6) and 2 points, communities of 4 and more, parts of 2
    /// and more, silhouette at least 0.25, seed 0.
    fn default() -> Self {
        SplitConfig {
            method: SplitMethod::Dbscan {
                max_cosine_distance: 0.4,
                min_points: 2,
            },
            min_size: 4,
            min_part: 2,
            min_silhouette: 0.25,
            seed: 0,
        }
    }
}

/// Splits a community into parts whose embeddings are clearly separate (see the module docs), or
/// returns it as one part.
///
/// Members without an embedding cannot be placed, so they stay with the largest part. Each part
/// is sorted by node id and the parts are ordered by size, largest first, then by first member;
/// duplicate members are kept once. Cost: DBSCAN and the silhouette are quadratic in the number
/// of members (linear search over 64-dimensional vectors), k-means is linear per iteration.
///
/// # Panics
/// When the method's parameters are out of range (`min_points < 2`, a radius that is not
/// positive, `k < 2`).
pub fn split_by_embedding(
    members: &[NodeId],
    emb: &Embeddings,
    cfg: &SplitConfig,
) -> Vec<Vec<NodeId>> {
    let mut members = members.to_vec();
    members.sort_unstable();
    members.dedup();
    let (embedded, missing): (Vec<NodeId>, Vec<NodeId>) =
        members.iter().partition(|m| emb.index_of(**m).is_some());
    if embedded.len() < cfg.min_size.max(2) {
        return whole(members);
    }
    let x = normalised_rows(&embedded, emb);
    let labels = match cfg.method {
        SplitMethod::Dbscan {
            max_cosine_distance,
            min_points,
        } => {
            assert!(min_points >= 2, "DBSCAN min_points must be at least 2");
            assert!(
                max_cosine_distance > 0.0,
                "DBSCAN max_cosine_distance must be positive"
            );
            let eps = (2.0 * max_cosine_distance).sqrt();
            let params =
                Dbscan::params_with(min_points, L2Dist, LinearSearch::new()).tolerance(eps);
            // Both checks above are the ones linfa makes, so this cannot fail.
            let labels = params.transform(&x).expect("checked DBSCAN parameters");
            labels.to_vec()
        }
        SplitMethod::KMeans { k } => {
            assert!(k >= 2, "k-means needs k of at least 2");
            let k = k.min(embedded.len());
            let data = DatasetBase::from(x.clone());
            let rng = Xoshiro256Plus::seed_from_u64(cfg.seed);
            match KMeans::params_with_rng(k, rng).fit(&data) {
                Ok(model) => model.predict(&x).iter().map(|&c| Some(c)).collect(),
                // k-means fails only on degenerate input (for example all-equal vectors), which
                // is a tight community by definition.
                Err(_) => return whole(members),
            }
        }
    };
    let Some(labels) = settle(&labels, &x, cfg.min_part.max(1)) else {
        return whole(members);
    };
    let parts = labels.iter().max().map_or(0, |m| m + 1);
    if parts < 2 || silhouette(&x, &labels, parts) < cfg.min_silhouette {
        return whole(members);
    }
    let mut out = vec![Vec::new(); parts];
    for (node, label) in embedded.iter().zip(&labels) {
        out[*label].push(*node);
    }
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    out[0].extend(missing);
    for part in &mut out {
        part.sort_unstable();
    }
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    out
}

fn whole(members: Vec<NodeId>) -> Vec<Vec<NodeId>> {
    if members.is_empty() {
        Vec::new()
    } else {
        vec![members]
    }
}

fn normalised_rows(nodes: &[NodeId], emb: &Embeddings) -> Array2<f32> {
    let mut x = Array2::<f32>::zeros((nodes.len(), emb.dim()));
    for (i, n) in nodes.iter().enumerate() {
        let v = emb.vector(*n).expect("embedded members only");
        let norm = v.dot(&v).sqrt();
        if norm > 0.0 {
            x.row_mut(i).assign(&(&v / norm));
        }
    }
    x
}

fn cosine_distance(x: &Array2<f32>, a: usize, b: usize) -> f32 {
    1.0 - x.row(a).dot(&x.row(b))
}

/// Gives every member a part: members of parts smaller than `min_part` and unlabelled (noise)
/// members join the part of their most similar member in a kept part. Returns dense part numbers
/// in order of first appearance, or `None` when no part is big enough.
fn settle(labels: &[Option<usize>], x: &Array2<f32>, min_part: usize) -> Option<Vec<usize>> {
    let parts = labels.iter().flatten().max().map_or(0, |m| m + 1);
    let mut sizes = vec![0usize; parts];
    for l in labels.iter().flatten() {
        sizes[*l] += 1;
    }
    let kept: Vec<Option<usize>> = labels
        .iter()
        .map(|l| l.filter(|l| sizes[*l] >= min_part))
        .collect();
    let anchors: Vec<usize> = (0..labels.len()).filter(|i| kept[*i].is_some()).collect();
    if anchors.is_empty() {
        return None;
    }
    let mut dense = vec![usize::MAX; parts];
    let mut next = 0;
    let mut out = Vec::with_capacity(labels.len());
    for i in 0..labels.len() {
        let label = kept[i].unwrap_or_else(|| {
            // The nearest anchor, first on ties, so the answer does not depend on float noise
            // in the ordering of equal distances.
            let best = anchors
                .iter()
                .copied()
                .min_by(|a, b| cosine_distance(x, i, *a).total_cmp(&cosine_distance(x, i, *b)))
                .expect("anchors is not empty");
            kept[best].expect("anchors are labelled")
        });
        if dense[label] == usize::MAX {
            dense[label] = next;
            next += 1;
        }
        out.push(dense[label]);
    }
    Some(out)
}

/// The mean silhouette of a labelling under cosine distance; a member alone in its part scores 0.
/// Large communities are estimated on an evenly spaced sample of members.
fn silhouette(x: &Array2<f32>, labels: &[usize], parts: usize) -> f32 {
    let n = labels.len();
    let step = n.div_ceil(SILHOUETTE_SAMPLE).max(1);
    let mut sizes = vec![0usize; parts];
    for l in labels {
        sizes[*l] += 1;
    }
    let mut total = 0f64;
    let mut counted = 0usize;
    let mut sums = vec![0f64; parts];
    for i in (0..n).step_by(step) {
        counted += 1;
        let own = labels[i];
        if sizes[own] < 2 {
            continue;
        }
        sums.fill(0.0);
        for j in 0..n {
            if j != i {
                sums[labels[j]] += f64::from(cosine_distance(x, i, j));
            }
        }
        let a = sums[own] / (sizes[own] - 1) as f64;
        let b = (0..parts)
            .filter(|p| *p != own && sizes[*p] > 0)
            .map(|p| sums[p] / sizes[p] as f64)
            .fold(f64::INFINITY, f64::min);
        let s = if a.max(b) > 0.0 {
            (b - a) / a.max(b)
        } else {
            0.0
        };
        total += s;
    }
    (total / counted.max(1) as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Embeddings for nodes `0..` from rows of (direction, jitter) pairs: each row is the unit
    /// vector of `direction` plus a small, deterministic perturbation on another axis.
    fn blobs(groups: &[(usize, usize)], dim: usize) -> Embeddings {
        let mut rows = Vec::new();
        for &(axis, count) in groups {
            for i in 0..count {
                let mut v = vec![0f32; dim];
                v[axis] = 1.0;
                v[(axis + 1 + i % (dim - 1)) % dim] += 0.15 * ((i % 3) as f32 + 1.0) / 3.0;
                rows.extend(v);
            }
        }
        let n = rows.len() / dim;
        Embeddings {
            nodes: (0..n as u32).map(NodeId).collect(),
            vectors: Array2::from_shape_vec((n, dim), rows).unwrap(),
        }
    }

    fn ids(r: std::ops::Range<u32>) -> Vec<NodeId> {
        r.map(NodeId).collect()
    }

    #[test]
    fn two_separate_blobs_are_split_with_dbscan() {
        let emb = blobs(&[(0, 6), (8, 4)], 16);
        let parts = split_by_embedding(&emb.nodes, &emb, &SplitConfig::default());
        assert_eq!(parts, vec![ids(0..6), ids(6..10)]);
    }

    #[test]
    fn a_tight_community_stays_whole() {
        let emb = blobs(&[(3, 8)], 16);
        assert_eq!(
            split_by_embedding(&emb.nodes, &emb, &SplitConfig::default()),
            vec![ids(0..8)]
        );
        let kmeans = SplitConfig {
            method: SplitMethod::KMeans { k: 2 },
            ..SplitConfig::default()
        };
        assert_eq!(
            split_by_embedding(&emb.nodes, &emb, &kmeans),
            vec![ids(0..8)]
        );
    }

    #[test]
    fn kmeans_splits_three_blobs_when_asked_for_three() {
        let emb = blobs(&[(0, 5), (5, 5), (10, 5)], 16);
        let cfg = SplitConfig {
            method: SplitMethod::KMeans { k: 3 },
            ..SplitConfig::default()
        };
        let parts = split_by_embedding(&emb.nodes, &emb, &cfg);
        assert_eq!(parts, vec![ids(0..5), ids(5..10), ids(10..15)]);
        assert_eq!(parts, split_by_embedding(&emb.nodes, &emb, &cfg));
    }

    #[test]
    fn noise_and_small_parts_join_their_nearest_part() {
        // Node 10 is a lone point between the blobs but nearer the first.
        let mut emb = blobs(&[(0, 5), (8, 5)], 16);
        let mut odd = vec![0f32; 16];
        odd[0] = 0.6;
        odd[8] = 0.4;
        odd[15] = 0.7;
        emb.nodes.push(NodeId(10));
        emb.vectors
            .push_row(ndarray::ArrayView1::from(&odd))
            .unwrap();
        let parts = split_by_embedding(&emb.nodes, &emb, &SplitConfig::default());
        let mut first = ids(0..5);
        first.push(NodeId(10));
        assert_eq!(parts, vec![first, ids(5..10)]);
    }

    #[test]
    fn members_without_embeddings_stay_with_the_largest_part() {
        let emb = blobs(&[(0, 4), (8, 6)], 16);
        let mut members = emb.nodes.clone();
        members.push(NodeId(99));
        members.push(NodeId(3));
        let parts = split_by_embedding(&members, &emb, &SplitConfig::default());
        let mut big = ids(4..10);
        big.push(NodeId(99));
        assert_eq!(parts, vec![big, ids(0..4)]);
    }

    #[test]
    fn small_communities_are_not_split() {
        let emb = blobs(&[(0, 2), (8, 1)], 16);
        assert_eq!(
            split_by_embedding(&emb.nodes, &emb, &SplitConfig::default()),
            vec![ids(0..3)]
        );
        assert!(split_by_embedding(&[], &emb, &SplitConfig::default()).is_empty());
    }
}
