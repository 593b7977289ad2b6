//! Reads of the suite's event history, in bounded `eth_getLogs` ranges (public RPCs cap them).

use alloy::{
    network::Ethereum,
    primitives::{Address, B256},
    providers::Provider,
    rpc::types::Filter,
    sol_types::SolEvent,
};
use verinfer_bindings::Staking;

/// Largest block range per `eth_getLogs` request of [`delegators_of`] (public RPCs cap ranges).
pub const LOG_RANGE: u64 = 10_000;

/// Every account that ever delegated to `operator` (from `Staking.Delegated` events in blocks
/// `from..=to`), sorted and deduplicated; the range is read in chunks of [`LOG_RANGE`] blocks.
pub async fn delegators_of<P: Provider<Ethereum>>(
    provider: &P,
    staking: Address,
    operator: Address,
    from: u64,
    to: u64,
) -> Result<Vec<Address>, alloy::transports::TransportError> {
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = to.min(start.saturating_add(LOG_RANGE - 1));
        let filter = Filter::new()
            .address(staking)
            .event_signature(Staking::Delegated::SIGNATURE_HASH)
            .topic2(B256::left_padding_from(operator.as_slice()))
            .from_block(start)
            .to_block(end);
        for log in provider.get_logs(&filter).await? {
            if let Ok(d) = Staking::Delegated::decode_log(&log.inner) {
                out.push(d.data.account);
            }
        }
        if end == u64::MAX {
            break;
        }
        start = end + 1;
    }
    out.sort();
    out.dedup();
    Ok(out)
}
