// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";

/// @title HeadCheckpoints
/// @notice A block-number checkpoint trace whose LATEST checkpoint lives in one storage slot (`head`:
///         key in the high 48 bits, value in the low 208 bits) and whose older checkpoints live in an OZ
///         `Checkpoints.Trace208`. A lookup at or after the latest key — the common case when voting — costs
///         one SLOAD instead of two; writes cost the same number of fresh slots as a plain Trace208.
library HeadCheckpoints {
    using Checkpoints for Checkpoints.Trace208;

    struct Trace {
        uint256 head;
        Checkpoints.Trace208 history;
    }

    /// @notice Records `value` at `key` (keys must not decrease).
    function push(Trace storage self, uint48 key, uint208 value) internal {
        uint256 h = self.head;
        // casting is safe: the head packs a 48-bit key over a 208-bit value
        // forge-lint: disable-next-line(unsafe-typecast)
        uint208 previous = uint208(h);
        // forge-lint: disable-next-line(unsafe-typecast)
        uint48 headKey = uint48(h >> 208);
        if (h != 0 && headKey != key) {
            // keys are block numbers written in order: the old head moves into the history
            self.history._checkpoints.push(Checkpoints.Checkpoint208({_key: headKey, _value: previous}));
        }
        self.head = (uint256(key) << 208) | value;
    }

    /// @notice Records `value` at `key` like {push}, but the previous latest checkpoint moves into the
    ///         history only if its key is below `keepBefore`; otherwise it is dropped. For traces whose past
    ///         values are read only at some blocks: the caller passes a `keepBefore` such that no block from
    ///         the previous key on (up to `key`) is ever looked up when the previous key is at least it.
    function pushOrReplace(Trace storage self, uint48 key, uint208 value, uint256 keepBefore) internal {
        uint256 h = self.head;
        // casting is safe: the head packs a 48-bit key over a 208-bit value
        // forge-lint: disable-next-line(unsafe-typecast)
        uint48 headKey = uint48(h >> 208);
        if (h != 0 && headKey != key && headKey < keepBefore) {
            // forge-lint: disable-next-line(unsafe-typecast)
            self.history._checkpoints.push(Checkpoints.Checkpoint208({_key: headKey, _value: uint208(h)}));
        }
        self.head = (uint256(key) << 208) | value;
    }

    /// @notice The latest value (0 when empty).
    function latest(Trace storage self) internal view returns (uint208) {
        // casting is safe: the low 208 bits are the value
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint208(self.head);
    }

    /// @notice The value at `key`: the last checkpoint with a key <= `key` (0 when none).
    function upperLookupRecent(Trace storage self, uint48 key) internal view returns (uint208) {
        uint256 h = self.head;
        // casting is safe: the head packs a 48-bit key over a 208-bit value
        // forge-lint: disable-next-line(unsafe-typecast)
        if (uint48(h >> 208) <= key) return uint208(h);
        return self.history.upperLookupRecent(key);
    }
}
