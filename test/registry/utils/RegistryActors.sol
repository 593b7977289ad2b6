// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../../../contracts/interfaces/IInferenceRegistry.sol";
import {InferenceRegistry} from "../../../contracts/registry/InferenceRegistry.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {MockERC20} from "../../mocks/MockERC20.sol";
import {Test} from "forge-std/Test.sol";

/// @dev Shared actors of the registry suites that run on the real Staking: the token, Staking and the
///      registry, operators with hot signer keys, and funded accounts.
abstract contract RegistryActors is Test {
    MockERC20 internal token;
    Staking internal staking;
    IInferenceRegistry internal registry;
    address[] internal ops;
    mapping(address operator => uint256 pk) internal signerKey;

    /// @dev Registers operators `op0`, `op1`, ... (hot key `opN-hot`) with `selfStake` each; every one
    ///      serves every model in `models`.
    function _addOperators(uint256 count, uint256 selfStake, bytes32[] memory models) internal {
        for (uint256 i; i < count; ++i) {
            string memory name = string.concat("op", vm.toString(i));
            address op = makeAddr(name);
            (address hot, uint256 pk) = makeAddrAndKey(string.concat(name, "-hot"));
            signerKey[op] = pk;
            token.mint(op, selfStake);
            vm.startPrank(op);
            token.approve(address(staking), selfStake);
            staking.registerOperator(hot, selfStake);
            for (uint256 m; m < models.length; ++m) {
                registry.serveModel(models[m]);
            }
            vm.stopPrank();
            ops.push(op);
        }
    }

    /// @dev Mints `amount` to `who` and lets `spender` take any amount of it.
    function _fund(address who, uint256 amount, address spender) internal {
        token.mint(who, amount);
        vm.prank(who);
        token.approve(spender, type(uint256).max);
    }
}
