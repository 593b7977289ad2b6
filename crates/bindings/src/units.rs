//! The token's units: 18 decimals, as `VerinferToken` (an OpenZeppelin ERC-20) declares. Every crate
//! converts and prints amounts through these functions.
//!
//! ```
//! use alloy::primitives::U256;
//! use verinfer_bindings::units::{format_tokens, parse_tokens, tokens, TOKEN};
//!
//! assert_eq!(tokens(3), U256::from(3 * TOKEN));
//! assert_eq!(format_tokens(U256::from(TOKEN / 100 * 125)), "1.25");
//! assert_eq!(format_tokens(tokens(2_000)), "2000");
//! assert_eq!(parse_tokens("0.01").unwrap(), U256::from(TOKEN / 100));
//! assert!(parse_tokens("1.2.3").is_err());
//! assert!(parse_tokens("-1").is_err());
//! ```

use alloy::primitives::{
    utils::{parse_units, ParseUnits},
    U256,
};

/// Decimals of `VerinferToken`.
pub const DECIMALS: u8 = 18;

/// The symbol the deployment gives `VerinferToken` (`verinfer deploy`'s plan); the `symbol` of the
/// amounts in the CLI's `--json` output.
pub const SYMBOL: &str = "VINF";

/// One whole token in wei (10^18).
pub const TOKEN: u128 = 1_000_000_000_000_000_000;

/// `whole` tokens in wei.
pub fn tokens(whole: u64) -> U256 {
    U256::from(whole) * U256::from(TOKEN)
}

/// A wei amount as a decimal token amount, exact, without trailing zeros (`1.25`, `2000`).
pub fn format_tokens(wei: U256) -> String {
    let whole = wei / U256::from(TOKEN);
    let frac = wei % U256::from(TOKEN);
    if frac.is_zero() {
        return whole.to_string();
    }
    let frac = format!("{frac:0>18}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// A wei amount as tokens with exactly `decimals` fractional digits (truncated), for aligned tables:
/// `format_tokens_fixed(1.255 tokens, 2) == "1.25"`.
///
/// ```
/// use verinfer_bindings::units::{format_tokens_fixed, tokens};
/// assert_eq!(format_tokens_fixed(tokens(2_000), 2), "2000.00");
/// ```
pub fn format_tokens_fixed(wei: U256, decimals: usize) -> String {
    let whole = wei / U256::from(TOKEN);
    if decimals == 0 {
        return whole.to_string();
    }
    let frac = format!("{:0>18}", wei % U256::from(TOKEN));
    format!("{whole}.{}", &frac[..decimals.min(18)])
}

/// A wei amount in tokens as `f64`, for reports and plots (micro-token precision).
pub fn tokens_f64(wei: U256) -> f64 {
    let micro: u128 = (wei / U256::from(TOKEN / 1_000_000)).saturating_to();
    micro as f64 / 1e6
}

/// Tokens given as `f64` in wei, rounded to micro-tokens; negative amounts are zero.
pub fn wei_f64(tokens: f64) -> U256 {
    let micro = (tokens.max(0.0) * 1e6).round() as u128;
    U256::from(micro) * U256::from(TOKEN / 1_000_000)
}

/// A token amount that is not a non-negative decimal with at most 18 fractional digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a token amount (a non-negative decimal such as `1`, `0.5` or `2000`, optionally with `ether`, `gwei` or `wei`)")]
pub struct TokensError {
    /// What was given.
    pub input: String,
}

/// A decimal token amount (`1`, `0.5`, `2000`) in wei.
pub fn parse_tokens(s: &str) -> Result<U256, TokensError> {
    match parse_units(s.trim(), DECIMALS) {
        Ok(ParseUnits::U256(wei)) => Ok(wei),
        _ => Err(TokensError {
            input: s.to_owned(),
        }),
    }
}

/// A command-line token amount: a decimal number of tokens (`1`, `0.01`, `2000`), optionally with a
/// unit suffix as cast writes them: `ether` (= tokens, 18 decimals), `gwei` (9) or `wei` (raw units).
///
/// ```
/// use alloy::primitives::U256;
/// use verinfer_bindings::units::{parse_amount, TOKEN};
///
/// assert_eq!(parse_amount("0.01").unwrap(), U256::from(TOKEN / 100));
/// assert_eq!(parse_amount("1.5ether").unwrap(), U256::from(TOKEN * 3 / 2));
/// assert_eq!(parse_amount("2gwei").unwrap(), U256::from(2_000_000_000u64));
/// assert_eq!(parse_amount("7wei").unwrap(), U256::from(7));
/// assert!(parse_amount("1.5wei").is_err());
/// assert!(parse_amount("ten").is_err());
/// ```
pub fn parse_amount(s: &str) -> Result<U256, TokensError> {
    let t = s.trim();
    let (number, decimals) = if let Some(n) = t.strip_suffix("ether") {
        (n, DECIMALS)
    } else if let Some(n) = t.strip_suffix("gwei") {
        (n, 9)
    } else if let Some(n) = t.strip_suffix("wei") {
        (n, 0)
    } else {
        (t, DECIMALS)
    };
    let number = number.trim();
    let fraction = number.split_once('.').map_or(0, |(_, f)| f.len());
    if fraction > usize::from(decimals) {
        return Err(TokensError {
            input: s.to_owned(),
        });
    }
    match parse_units(number, decimals) {
        Ok(ParseUnits::U256(wei)) => Ok(wei),
        _ => Err(TokensError {
            input: s.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_is_exact_and_roundtrips_through_parse() {
        for wei in [
            0u128,
            1,
            TOKEN - 1,
            TOKEN,
            12_345 * TOKEN / 100,
            u64::MAX as u128,
        ] {
            let s = format_tokens(U256::from(wei));
            assert_eq!(parse_tokens(&s).unwrap(), U256::from(wei), "{s}");
        }
        assert_eq!(format_tokens(U256::from(1)), "0.000000000000000001");
        assert_eq!(
            format_tokens_fixed(U256::from(TOKEN / 1000 * 1255), 2),
            "1.25"
        );
        assert_eq!(
            format_tokens_fixed(U256::from(1), 18),
            "0.000000000000000001"
        );
        assert_eq!(format_tokens_fixed(U256::from(TOKEN * 3), 0), "3");
    }

    #[test]
    fn f64_conversions_roundtrip_at_micro_precision() {
        assert_eq!(tokens_f64(wei_f64(1234.5)), 1234.5);
        assert_eq!(wei_f64(-3.0), U256::ZERO);
    }
}
