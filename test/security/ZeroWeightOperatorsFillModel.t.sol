// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {SecurityBase} from "./SecurityBase.sol";

/// @notice Finding 5 (Medium): zero-weight operators could fill a model's sum tree forever. Throw-away operators
///         registered at the minimum stake, served a model, unbonded at once and withdrew their capital, yet
///         kept their slots: 1,024 of them locked new operators out with `ModelFull` for good.
///         Now a slot is held only while its operator qualifies: anyone can evict an operator whose weight for
///         the model is 0 (below minStake, jailed or inactive), so filling a model costs capital for as long as
///         it stays filled.
contract ZeroWeightOperatorsFillModelTest is SecurityBase {
    uint256 internal constant CAPACITY = 1024;
    uint256 internal constant MIN = 10_000 ether;
    address internal constant NOT_SERVING = address(0xBEEF);

    address[] internal fillers;

    /// @dev Fills `detModel` to capacity with minimum-stake operators, then unbonds all their stake.
    function _fillAndUnbond() internal {
        for (uint256 i; i < CAPACITY; ++i) {
            address op = address(uint160(0xF1110000 + i));
            deal(address(s.token), op, MIN);
            vm.startPrank(op);
            s.token.approve(address(s.staking), MIN);
            s.staking.registerOperator(op, MIN);
            s.registry.serveModel(detModel);
            s.staking.requestUnstake(op, s.staking.sharesOf(op, op));
            vm.stopPrank();
            fillers.push(op);
        }
        assertEq(s.registry.operatorCount(detModel), CAPACITY);
        assertEq(s.registry.totalWeight(detModel), 0, "every filler's weight dropped to 0 on unbonding");
    }

    function _newcomer() internal returns (address op) {
        op = _addOperator("newcomer", 50_000 ether, new bytes32[](0));
    }

    /// @notice The attack: after the fill, a qualifying newcomer is locked out; one eviction by anyone
    ///         frees a slot and the newcomer serves. Every filler can be evicted, and the model empties.
    function test_UnbondedFillersAreEvictedAndNewcomersServe() public {
        _fillAndUnbond();
        address op = _newcomer();
        vm.prank(op);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.ModelFull.selector, detModel, CAPACITY));
        s.registry.serveModel(detModel);

        vm.expectEmit(address(s.registry));
        emit IInferenceRegistry.OperatorStopped(detModel, fillers[7]);
        vm.prank(makeAddr("anyone"));
        s.registry.evict(detModel, fillers[7]);
        vm.prank(op);
        s.registry.serveModel(detModel);
        assertEq(s.registry.operatorWeight(detModel, op), 50_000 ether);

        // The rest can be cleared the same way; the evicted filler no longer lists the model.
        assertEq(s.registry.servedModels(fillers[7]).length, 0);
        for (uint256 i; i < CAPACITY; ++i) {
            if (i != 7) s.registry.evict(detModel, fillers[i]);
        }
        assertEq(s.registry.operatorCount(detModel), 1);
    }

    /// @notice A qualifying operator cannot be evicted, and an evicted operator comes back only by qualifying.
    function test_QualifyingOperatorCannotBeEvicted() public {
        address op = _newcomer();
        vm.prank(op);
        s.registry.serveModel(detModel);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.OperatorQualifies.selector, detModel, op, 50_000 ether)
        );
        s.registry.evict(detModel, op);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.NotServing.selector, detModel, NOT_SERVING));
        s.registry.evict(detModel, NOT_SERVING);
    }

    /// @notice A jailed operator's weight is 0: it can be evicted while jailed, and serve again after unjailing.
    function test_JailedOperatorIsEvictableAndReturnsAfterUnjail() public {
        address op = _newcomer();
        vm.prank(op);
        s.registry.serveModel(detModel);
        _governanceSlash(EQUIVOCATION, op, "jail", address(0)); // 10% slash, jailed 7 days
        assertEq(s.registry.operatorWeight(detModel, op), 0);
        s.registry.evict(detModel, op);
        vm.prank(op);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.NotActiveOperator.selector, op));
        s.registry.serveModel(detModel);
        _advance(7 days);
        vm.startPrank(op);
        s.staking.unjail();
        s.registry.serveModel(detModel);
        vm.stopPrank();
        assertEq(s.registry.operatorWeight(detModel, op), 45_000 ether);
    }
}
