//! The tree computations of the transparency log over stored complete subtrees.
//!
//! The log stores, for every level `l`, the hash of each complete aligned subtree of `2^l`
//! leaves (`(l, i)` covers leaves `i·2^l .. (i+1)·2^l`); level 0 holds the leaf hashes. Every
//! subtree RFC 9162's recursion visits is either such a node or splits into them, so a root or
//! a proof reads O(log² n) stored hashes, never the leaves. The functions here only ask a
//! [`Nodes`] source for hashes; storage answers from the database. Because the hashes asked
//! for depend only on the sizes, storage first runs a function with [`Planner`] to learn which
//! rows to read, reads them in one query, then runs it again over a map of what it read.

use std::collections::HashMap;

use verifier_core::log::{Hash, empty_root, node_hash};

/// A stored node the computation needed is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("log node (level {level}, index {index}) is missing")]
pub struct MissingNode {
    /// Its level.
    pub level: u8,
    /// Its index within the level.
    pub index: u64,
}

/// Where the stored complete subtrees come from.
pub trait Nodes {
    /// The hash of complete subtree `(level, index)`.
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, MissingNode>;
}

/// Records the nodes a computation asks for and answers with zeros.
#[derive(Debug, Default)]
pub struct Planner {
    /// The nodes asked for, in order, without repeats.
    pub wanted: Vec<(u8, u64)>,
}

impl Nodes for Planner {
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        if !self.wanted.contains(&(level, index)) {
            self.wanted.push((level, index));
        }
        Ok([0; 32])
    }
}

/// Nodes read from storage.
impl Nodes for HashMap<(u8, u64), Hash> {
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        self.get(&(level, index))
            .copied()
            .ok_or(MissingNode { level, index })
    }
}

/// The largest power of two smaller than `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// RFC 9162's MTH of leaves `a..b` (a < b), from stored nodes.
pub fn subtree(nodes: &mut impl Nodes, a: u64, b: u64) -> Result<Hash, MissingNode> {
    let n = b - a;
    if n.is_power_of_two() && a.is_multiple_of(n) {
        return nodes.node(n.trailing_zeros() as u8, a >> n.trailing_zeros());
    }
    let k = split(n);
    let left = subtree(nodes, a, a + k)?;
    let right = subtree(nodes, a + k, b)?;
    Ok(node_hash(&left, &right))
}

/// The root of the first `size` leaves.
pub fn root(nodes: &mut impl Nodes, size: u64) -> Result<Hash, MissingNode> {
    if size == 0 {
        Ok(empty_root())
    } else {
        subtree(nodes, 0, size)
    }
}

/// RFC 9162 §2.1.3.1: the inclusion proof of leaf `index` in the tree of `size` leaves
/// (index < size; the caller checks).
pub fn inclusion_proof(
    nodes: &mut impl Nodes,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, MissingNode> {
    let (mut a, mut b) = (0, size);
    let mut siblings = Vec::new();
    while b - a > 1 {
        let k = split(b - a);
        if index < a + k {
            siblings.push(subtree(nodes, a + k, b)?);
            b = a + k;
        } else {
            siblings.push(subtree(nodes, a, a + k)?);
            a += k;
        }
    }
    siblings.reverse();
    Ok(siblings)
}

/// RFC 9162 §2.1.4.1: the consistency proof from `first` to `second` leaves
/// (0 < first ≤ second; the caller checks).
pub fn consistency_proof(
    nodes: &mut impl Nodes,
    first: u64,
    second: u64,
) -> Result<Vec<Hash>, MissingNode> {
    let mut proof = Vec::new();
    let (mut a, mut b, mut m, mut whole) = (0, second, first, true);
    loop {
        if m == b - a {
            if !whole {
                proof.push(subtree(nodes, a, b)?);
            }
            break;
        }
        let k = split(b - a);
        if m <= k {
            proof.push(subtree(nodes, a + k, b)?);
            b = a + k;
        } else {
            proof.push(subtree(nodes, a, a + k)?);
            a += k;
            m -= k;
            whole = false;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// The complete subtrees that leaf `index` (the log's new last leaf, with hash `leaf`)
/// completes, level 0 first: `(level, index, hash)`.
pub fn appended_nodes(
    nodes: &mut impl Nodes,
    index: u64,
    leaf: Hash,
) -> Result<Vec<(u8, u64, Hash)>, MissingNode> {
    let mut out = vec![(0u8, index, leaf)];
    let mut hash = leaf;
    let mut i = index;
    let mut level = 0u8;
    while i & 1 == 1 {
        let left = nodes.node(level, i - 1)?;
        hash = node_hash(&left, &hash);
        i >>= 1;
        level += 1;
        out.push((level, i, hash));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use verifier_core::log::{leaf_hash, verify_consistency, verify_inclusion};

    /// Builds the stored nodes of a log of `n` leaves by appending one at a time.
    fn build(n: u64) -> HashMap<(u8, u64), Hash> {
        let mut nodes = HashMap::new();
        for i in 0..n {
            let leaf = leaf_hash(&i.to_be_bytes());
            for (l, j, h) in appended_nodes(&mut nodes, i, leaf).unwrap() {
                nodes.insert((l, j), h);
            }
        }
        nodes
    }

    fn naive_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn proofs_from_stored_nodes_check_with_the_core() {
        let n = 37;
        let mut nodes = build(n);
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for size in 1..=n {
            let r = root(&mut nodes, size).unwrap();
            assert_eq!(r, naive_root(&leaves[..size as usize]));
            for index in 0..size {
                let p = inclusion_proof(&mut nodes, index, size).unwrap();
                verify_inclusion(index, size, &leaves[index as usize], &p, &r).unwrap();
            }
            for first in 1..=size {
                let p = consistency_proof(&mut nodes, first, size).unwrap();
                let r1 = root(&mut nodes, first).unwrap();
                verify_consistency(first, size, &r1, &r, &p).unwrap();
            }
        }
    }

    #[test]
    fn planning_reads_few_nodes_for_a_large_log() {
        let size = 10_000_000u64;
        let mut planner = Planner::default();
        inclusion_proof(&mut planner, 7_654_321, size).unwrap();
        assert!(planner.wanted.len() < 64, "{}", planner.wanted.len());
        let mut planner = Planner::default();
        consistency_proof(&mut planner, 9_999_999, size).unwrap();
        assert!(planner.wanted.len() < 64, "{}", planner.wanted.len());
        let mut planner = Planner::default();
        root(&mut planner, size).unwrap();
        // One stored node per set bit of the size.
        assert_eq!(planner.wanted.len(), size.count_ones() as usize);
    }

    #[test]
    fn a_missing_node_is_reported() {
        let mut nodes = build(4);
        nodes.remove(&(1, 0));
        // Size 4 is one stored node; size 3 needs the removed one.
        assert!(root(&mut nodes, 4).is_ok());
        assert_eq!(root(&mut nodes, 3), Err(MissingNode { level: 1, index: 0 }));
    }
}
