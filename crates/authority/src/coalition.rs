//! The deciding coalition of a vote, exactly, off chain from its vote events: the smallest set of
//! the winning side's voters whose removal flips the outcome.
//!
//! Removing voters of the winning side only lowers the winner's tally (and the total cast), while
//! every other tally stays. Each way the outcome can flip (another option overtakes the winner
//! under the contract's tie rule; the total falls below quorum) therefore needs the removed weight
//! to reach a threshold, so the largest voters first is optimal: the coalition is the shortest
//! prefix of the winning side sorted by weight whose removal changes [`Counting::outcome`]. The tests
//! check this against a brute force over every subset.

use alloy::primitives::U256;

/// How a vote is counted, as the contract counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// `DisputeGovernor`: plurality over `options`, ties to the lower index; decided only when the
    /// total cast reaches `quorum` (weight units; `None` when unknown: only plurality flips count).
    Plurality {
        /// Number of options.
        options: usize,
        /// Quorum in weight units, when known.
        quorum: Option<U256>,
    },
    /// OpenZeppelin Governor with `GovernorQuadraticCounting`: options 0 against, 1 for,
    /// 2 abstain; succeeds when for > against and for + abstain reaches `quorum` (when known).
    ForAgainst {
        /// Quorum in weight units, when known.
        quorum: Option<U256>,
    },
}

/// The outcome of a count: the winning option, or `None` when nothing was decided.
pub type Outcome = Option<usize>;

impl Counting {
    /// The outcome of `tallies` (one per option).
    pub fn outcome(&self, tallies: &[U256]) -> Outcome {
        let total = tallies.iter().fold(U256::ZERO, |a, b| a.saturating_add(*b));
        match *self {
            Self::Plurality { quorum, .. } => {
                if total.is_zero() || quorum.is_some_and(|q| total < q) {
                    return None;
                }
                let mut w = 0;
                for (i, t) in tallies.iter().enumerate().skip(1) {
                    if *t > tallies[w] {
                        w = i;
                    }
                }
                Some(w)
            }
            Self::ForAgainst { quorum } => {
                let at = |i: usize| tallies.get(i).copied().unwrap_or_default();
                let (against, for_, abstain) = (at(0), at(1), at(2));
                let quorate = quorum.is_none_or(|q| q <= for_.saturating_add(abstain));
                Some(usize::from(quorate && for_ > against))
            }
        }
    }

    fn options(&self) -> usize {
        match *self {
            Self::Plurality { options, .. } => options,
            Self::ForAgainst { .. } => 3,
        }
    }
}

/// One ballot: a voter (by index in the caller's list), its option and weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ballot {
    /// Option chosen.
    pub option: usize,
    /// Weight counted.
    pub weight: U256,
}

/// The tallies of `ballots` under `counting` (ballots for unknown options are ignored).
pub fn tallies(counting: &Counting, ballots: &[Ballot]) -> Vec<U256> {
    let mut t = vec![U256::ZERO; counting.options()];
    for b in ballots {
        if let Some(x) = t.get_mut(b.option) {
            *x = x.saturating_add(b.weight);
        }
    }
    t
}

/// The deciding coalition of `ballots`: indices (into `ballots`) of the fewest voters of the
/// winning side whose removal changes the outcome, largest weight first. Empty when nothing was
/// decided (no outcome, or the outcome is "against" of a proposal: a failed proposal changes
/// nothing), or when removing the whole winning side would not change it.
pub fn deciding_coalition(counting: &Counting, ballots: &[Ballot]) -> Vec<usize> {
    let mut t = tallies(counting, ballots);
    let outcome = counting.outcome(&t);
    let winner = match (counting, outcome) {
        (_, None) | (Counting::ForAgainst { .. }, Some(0)) => return Vec::new(),
        (_, Some(w)) => w,
    };
    let mut side: Vec<usize> = (0..ballots.len())
        .filter(|i| ballots[*i].option == winner && !ballots[*i].weight.is_zero())
        .collect();
    side.sort_by(|a, b| ballots[*b].weight.cmp(&ballots[*a].weight).then(a.cmp(b)));
    for k in 0..side.len() {
        let w = ballots[side[k]].weight;
        t[winner] = t[winner].saturating_sub(w);
        if counting.outcome(&t) != outcome {
            side.truncate(k + 1);
            return side;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest subset of the winning side whose removal changes the outcome, by trying all.
    fn brute_force(counting: &Counting, ballots: &[Ballot]) -> Option<usize> {
        let outcome = counting.outcome(&tallies(counting, ballots));
        let winner = outcome?;
        let side: Vec<usize> = (0..ballots.len())
            .filter(|i| ballots[*i].option == winner && !ballots[*i].weight.is_zero())
            .collect();
        let mut best: Option<usize> = None;
        for mask in 1u32..(1 << side.len()) {
            let kept: Vec<Ballot> = (0..ballots.len())
                .filter(|i| {
                    !side
                        .iter()
                        .enumerate()
                        .any(|(j, s)| s == i && mask >> j & 1 == 1)
                })
                .map(|i| ballots[i])
                .collect();
            if counting.outcome(&tallies(counting, &kept)) != outcome {
                let n = mask.count_ones() as usize;
                best = Some(best.map_or(n, |b| b.min(n)));
            }
        }
        best
    }

    /// A small deterministic generator (xorshift), so the test needs no RNG crate.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn deciding_coalition_equals_brute_force_on_small_vote_sets() {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut checked = 0;
        for round in 0..3000 {
            let n = 1 + (next(&mut s) % 9) as usize;
            let counting = match round % 3 {
                0 => Counting::Plurality {
                    options: 2 + (next(&mut s) % 3) as usize,
                    quorum: None,
                },
                1 => Counting::Plurality {
                    options: 2 + (next(&mut s) % 3) as usize,
                    quorum: Some(U256::from(next(&mut s) % 60)),
                },
                _ => Counting::ForAgainst {
                    quorum: next(&mut s)
                        .is_multiple_of(2)
                        .then(|| U256::from(next(&mut s) % 60)),
                },
            };
            let ballots: Vec<Ballot> = (0..n)
                .map(|_| Ballot {
                    option: (next(&mut s) % counting.options() as u64) as usize,
                    weight: U256::from(1 + next(&mut s) % 20),
                })
                .collect();
            let got = deciding_coalition(&counting, &ballots);
            let outcome = counting.outcome(&tallies(&counting, &ballots));
            let expected = match (counting, outcome) {
                (Counting::ForAgainst { .. }, Some(0)) => None,
                _ => brute_force(&counting, &ballots),
            };
            assert_eq!(
                (!got.is_empty()).then_some(got.len()),
                expected,
                "{counting:?} {ballots:?}"
            );
            // and the coalition found does flip the outcome
            if !got.is_empty() {
                let kept: Vec<Ballot> = (0..n)
                    .filter(|i| !got.contains(i))
                    .map(|i| ballots[i])
                    .collect();
                assert_ne!(counting.outcome(&tallies(&counting, &kept)), outcome);
                checked += 1;
            }
        }
        assert!(
            checked > 1000,
            "only {checked} decided votes were generated"
        );
    }

    #[test]
    fn a_tie_goes_to_the_lower_option_so_one_voter_flips_a_tied_higher_winner() {
        // option 2 wins 10 vs 9; removing its single voter of weight 10 hands it to option 1
        let c = Counting::Plurality {
            options: 3,
            quorum: None,
        };
        let b = [
            Ballot {
                option: 1,
                weight: U256::from(9),
            },
            Ballot {
                option: 2,
                weight: U256::from(10),
            },
            Ballot {
                option: 2,
                weight: U256::from(1),
            },
        ];
        assert_eq!(deciding_coalition(&c, &b), vec![1]);
    }

    #[test]
    fn losing_quorum_is_a_flip() {
        // option 1 wins alone, but the total 30 is just at quorum 25: removing 6 breaks quorum
        let c = Counting::Plurality {
            options: 2,
            quorum: Some(U256::from(25)),
        };
        let b = [
            Ballot {
                option: 1,
                weight: U256::from(6),
            },
            Ballot {
                option: 1,
                weight: U256::from(24),
            },
        ];
        assert_eq!(deciding_coalition(&c, &b), vec![1]);
    }
}
