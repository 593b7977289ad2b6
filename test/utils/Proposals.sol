// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @dev Builders of governor proposal arrays.
library Proposals {
    /// @dev A proposal of one action: `target` called with `value` and `data`.
    function single(address target, uint256 value, bytes memory data)
        internal
        pure
        returns (address[] memory t, uint256[] memory v, bytes[] memory c)
    {
        t = new address[](1);
        v = new uint256[](1);
        c = new bytes[](1);
        (t[0], v[0], c[0]) = (target, value, data);
    }
}
