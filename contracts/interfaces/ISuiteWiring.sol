// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IStakingWiring
/// @notice The wiring getters of Staking that VerinferGovernor follows to derive its governance targets.
interface IStakingWiring {
    /// @notice The staking asset.
    /// @return The token address.
    function token() external view returns (address);

    /// @notice The only address allowed to slash (zero until wired).
    /// @return The slasher address.
    function slasher() external view returns (address);
}

/// @title ISlasherWiring
/// @notice The wiring getter of the Slasher that VerinferGovernor follows.
interface ISlasherWiring {
    /// @notice The registry allowed to request slashes (zero until wired).
    /// @return The registry address.
    function registry() external view returns (address);
}

/// @title IRegistryWiring
/// @notice The wiring getter of the InferenceRegistry that VerinferGovernor follows.
interface IRegistryWiring {
    /// @notice The dispute resolver whose rulings slash (zero until wired).
    /// @return The resolver address.
    function resolver() external view returns (address);
}
