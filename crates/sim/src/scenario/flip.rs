//! The exact flip coalition of a dispute vote, computed off chain from every ballot.
//!
//! The flip coalition is the contract's measure (`RulingStats.flipCoalition`) without its cap: voters
//! who *switch* to another option. The authority ledger's deciding coalition
//! (`verinfer_authority::coalition`) is another measure: winning-side voters whose *removal*
//! (quorum included) changes the outcome.
//!
//! The `DisputeGovernor` keeps only the `TOP_N` = 16 largest weights per option, so its
//! `flipCoalition` is a lower bound once an option has more voters (it then reports `TOP_N + 1`).
//! Here every `DisputeVoteCast` is counted: the deciding coalition is the smallest number of voters
//! whose switch to one other option flips the plurality (the flip coalition), with the contract's tie rule (the lower
//! option index wins a tie). A voter switching from the winner to the target closes the gap by
//! twice its weight, one switching from a third option by its weight; for a fixed target taking the
//! largest effects first is optimal, and the minimum is taken over targets.

/// One ballot: the option voted for and the weight counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ballot {
    /// Option index.
    pub option: u8,
    /// Weight counted by the contract.
    pub weight: u128,
}

/// The plurality winner of `ballots` over `options` options (lowest index on a tie), with the
/// contract's rule; `None` without ballots.
pub fn plurality(ballots: &[Ballot], options: usize) -> Option<u8> {
    if ballots.is_empty() {
        return None;
    }
    let t = tallies(ballots, options);
    let mut best = 0usize;
    for (o, v) in t.iter().enumerate() {
        if *v > t[best] {
            best = o;
        }
    }
    u8::try_from(best).ok()
}

fn tallies(ballots: &[Ballot], options: usize) -> Vec<u128> {
    let n = options.max(
        ballots
            .iter()
            .map(|b| usize::from(b.option) + 1)
            .max()
            .unwrap_or(0),
    );
    let mut t = vec![0u128; n];
    for b in ballots {
        t[usize::from(b.option)] += b.weight;
    }
    t
}

/// The smallest number of voters whose switch to one other option flips the ruling of `ballots`
/// (`options` options): `None` when no switch can flip it (a single option, or no ballots).
pub fn flip_coalition(ballots: &[Ballot], options: usize) -> Option<usize> {
    let winner = usize::from(plurality(ballots, options)?);
    let t = tallies(ballots, options);
    let mut best: Option<usize> = None;
    for target in 0..t.len() {
        if target == winner {
            continue;
        }
        // target wins if t_r' > t_w' (target after winner) or t_r' >= t_w' (target before it).
        let mut deficit = t[winner] - t[target] + u128::from(target > winner);
        let mut effects: Vec<u128> = ballots
            .iter()
            .filter(|b| usize::from(b.option) != target)
            .map(|b| {
                if usize::from(b.option) == winner {
                    2 * b.weight
                } else {
                    b.weight
                }
            })
            .collect();
        effects.sort_unstable_by(|a, b| b.cmp(a));
        let mut k = 0usize;
        for e in effects {
            if deficit == 0 || e == 0 {
                break;
            }
            k += 1;
            deficit = deficit.saturating_sub(e);
        }
        if deficit == 0 && k > 0 && best.is_none_or(|b| k < b) {
            best = Some(k);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Every subset of voters, every target: the smallest subset whose switch makes the target win.
    fn brute_force(ballots: &[Ballot], options: usize) -> Option<usize> {
        let winner = plurality(ballots, options)?;
        let mut best: Option<usize> = None;
        for target in 0..options as u8 {
            if target == winner {
                continue;
            }
            for mask in 1u32..(1 << ballots.len()) {
                let switched: Vec<Ballot> = ballots
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        if mask & (1 << i) != 0 {
                            Ballot {
                                option: target,
                                weight: b.weight,
                            }
                        } else {
                            *b
                        }
                    })
                    .collect();
                if plurality(&switched, options) == Some(target) {
                    let k = mask.count_ones() as usize;
                    if best.is_none_or(|b| k < b) {
                        best = Some(k);
                    }
                }
            }
        }
        best
    }

    #[test]
    fn exact_flip_coalition_equals_brute_force_on_small_vote_sets() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        for _ in 0..400 {
            let options = rng.gen_range(2..=4usize);
            let n = rng.gen_range(1..=10usize);
            let ballots: Vec<Ballot> = (0..n)
                .map(|_| Ballot {
                    option: rng.gen_range(0..options as u8),
                    weight: rng.gen_range(1..=20u128),
                })
                .collect();
            assert_eq!(
                flip_coalition(&ballots, options),
                brute_force(&ballots, options),
                "{ballots:?}"
            );
        }
    }

    #[test]
    fn flip_coalition_is_not_capped_at_sixteen_voters() {
        // 40 equal voters for option 1, 10 for option 2: 16 switches close a gap of 30 by 2 each.
        let mut ballots = vec![
            Ballot {
                option: 1,
                weight: 1
            };
            40
        ];
        ballots.extend(vec![
            Ballot {
                option: 2,
                weight: 1
            };
            10
        ]);
        // target 2 wins if t2' > t1': 10 + k > 40 - k -> k = 16; target 0 (wins ties): k >= 40 - k -> 20.
        assert_eq!(flip_coalition(&ballots, 3), Some(16));
        let ballots = vec![
            Ballot {
                option: 1,
                weight: 1
            };
            100
        ];
        // target 0 (before the winner) wins a tie: k >= 100 - k -> 50.
        assert_eq!(flip_coalition(&ballots, 2), Some(50));
        assert_eq!(flip_coalition(&[], 2), None);
    }
}
