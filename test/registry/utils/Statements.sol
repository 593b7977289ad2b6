// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../../../contracts/interfaces/IInferenceRegistry.sol";

/// @dev Builders of `IInferenceRegistry.Statement`s for equivocation reports.
library Statements {
    /// @dev A signed statement: `att` with its signature.
    function signed(IInferenceRegistry.Attestation memory att, bytes memory sig)
        internal
        pure
        returns (IInferenceRegistry.Statement memory)
    {
        return IInferenceRegistry.Statement(att, sig, 0, new bytes32[](0));
    }

    /// @dev A committed statement: the leaf (att.operator, att.requestId, att.outputHash) of `batchId`.
    function leaf(IInferenceRegistry.Attestation memory att, uint256 batchId, bytes32[] memory proof)
        internal
        pure
        returns (IInferenceRegistry.Statement memory)
    {
        return IInferenceRegistry.Statement(att, "", batchId, proof);
    }
}
