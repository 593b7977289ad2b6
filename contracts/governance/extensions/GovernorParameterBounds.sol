// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title GovernorParameterBounds
/// @notice The one bounds check shared by every settable governor parameter: a value outside its range
///         reverts with `ParameterOutOfBounds(name, value, min, max)`, at construction and in every setter.
/// @dev No storage. Inherited by each governor extension that owns a bounded parameter, so the error is
///      declared once in the composed contract's ABI.
abstract contract GovernorParameterBounds {
    /// @notice Parameter `name` = `value` is outside [`min`, `max`].
    error ParameterOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);

    /// @dev Reverts with `ParameterOutOfBounds` unless `min <= value <= max`.
    /// @param name The parameter's name (as in `ParameterOutOfBounds` and `ParameterChanged`).
    /// @param value The proposed value.
    /// @param min The smallest allowed value.
    /// @param max The largest allowed value.
    function _checkBounds(bytes32 name, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert ParameterOutOfBounds(name, value, min, max);
    }
}
