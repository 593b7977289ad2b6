// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {Deploy} from "../../script/Deploy.s.sol";
import {DeploySuite} from "../../script/DeploySuite.sol";

/// @notice EigenLayer-style integration base: the real suite exactly as `script/Deploy.s.sol` deploys it (same
///         routine, same default parameters), a cast of actors and a time machine that moves the clock and the
///         block number together.
abstract contract IntegrationBase is Test {
    uint256 internal constant BLOCK_TIME = 12;
    uint256 internal constant START_TIME = 1_700_000_000;
    uint256 internal constant ACTOR_FUNDS = 1_000_000 ether;
    address internal constant BURN = 0x000000000000000000000000000000000000dEaD;

    ISlasher.FaultKind internal constant EQUIVOCATION = ISlasher.FaultKind.Equivocation;
    ISlasher.FaultKind internal constant WRONG_RESULT = ISlasher.FaultKind.WrongResult;
    ISlasher.FaultKind internal constant MISSED = ISlasher.FaultKind.MissedAssignment;

    DeploySuite.Config internal cfg;
    DeploySuite.Suite internal s;

    address internal deployer = makeAddr("deployer");
    address internal client = makeAddr("client");
    address internal challenger = makeAddr("challenger");

    /// @dev Operators (cold owner addresses) and their hot signer keys.
    address[3] internal operators;
    address[3] internal signers;
    uint256[3] internal signerKeys;
    address[3] internal delegators;

    /// @dev Everyone who may ever hold tokens in a test (for conservation checks).
    address[] internal holders;

    /// @dev The configuration the suite is deployed with: the deploy script's, as on a real network.
    ///      A suite that isolates one rule may adjust it.
    function _suiteConfig() internal virtual returns (DeploySuite.Config memory) {
        return new Deploy().configFromEnv(deployer);
    }

    function setUp() public virtual {
        vm.warp(START_TIME);
        vm.roll(1000);
        cfg = _suiteConfig();
        vm.startPrank(deployer);
        s = DeploySuite.deploySuite(cfg);
        vm.stopPrank();

        for (uint256 i; i < 3; ++i) {
            operators[i] = makeAddr(string.concat("operator", vm.toString(i)));
            (signers[i], signerKeys[i]) = makeAddrAndKey(string.concat("signer", vm.toString(i)));
            delegators[i] = makeAddr(string.concat("delegator", vm.toString(i)));
            _fund(operators[i]);
            _fund(delegators[i]);
        }
        _fund(client);
        _fund(challenger);
        holders.push(deployer);
        holders.push(s.treasury);
        holders.push(BURN);
    }

    // ------------------------------------------------------------------ time machine

    /// @dev Moves the clock forward by `secs` and the block number by the matching number of blocks.
    function _advance(uint256 secs) internal {
        vm.warp(block.timestamp + secs);
        vm.roll(block.number + (secs + BLOCK_TIME - 1) / BLOCK_TIME);
    }

    /// @dev Advances to the timestamp `t` (no-op if already past).
    function _advanceTo(uint256 t) internal {
        if (t > block.timestamp) _advance(t - block.timestamp);
    }

    // ------------------------------------------------------------------ actors

    function _fund(address who) internal {
        vm.prank(deployer);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        assertTrue(s.token.transfer(who, ACTOR_FUNDS));
        vm.prank(who);
        s.token.approve(address(s.staking), type(uint256).max);
        holders.push(who);
    }

    function _registerOperator(uint256 i, uint256 selfStake) internal {
        vm.prank(operators[i]);
        s.staking.registerOperator(signers[i], selfStake);
    }

    function _delegate(address who, address op, uint256 assets) internal returns (uint256 shares) {
        vm.prank(who);
        shares = s.staking.delegate(op, assets);
    }

    function _unstakeAll(address who, address op) internal returns (uint256 withdrawalId) {
        uint256 shares = s.staking.sharesOf(op, who);
        vm.prank(who);
        withdrawalId = s.staking.requestUnstake(op, shares);
    }

    function _complete(address who, uint256 withdrawalId) internal returns (uint256 assets) {
        vm.prank(who);
        assets = s.staking.completeUnstake(withdrawalId);
    }

    /// @dev A slash requested by governance (the timelock executing a passed proposal).
    function _governanceSlash(ISlasher.FaultKind kind, address op, bytes32 ref, address reporter)
        internal
        returns (uint256 slashId)
    {
        vm.prank(address(s.timelock));
        slashId = s.slasher.requestSlash(kind, op, ref, reporter);
    }

    function _veto(uint256 slashId) internal {
        vm.prank(s.slasher.governance());
        s.slasher.vetoSlash(slashId);
    }

    // ------------------------------------------------------------------ global checks

    function _slashable(address op) internal view returns (uint256) {
        IStaking.OperatorInfo memory info = s.staking.operatorInfo(op);
        return info.activeStake + info.unbondingStake;
    }

    /// @dev Sum of the token balances of every protocol contract, sink and actor.
    function _accountedBalances() internal view virtual returns (uint256 sum) {
        sum = s.token.balanceOf(address(s.staking)) + s.token.balanceOf(address(s.slasher));
        for (uint256 i; i < holders.length; ++i) {
            sum += s.token.balanceOf(holders[i]);
        }
    }

    function _assertConservation() internal view {
        assertEq(_accountedBalances(), s.token.totalSupply(), "tokens created or lost");
        assertEq(s.token.balanceOf(address(s.slasher)), 0, "slasher holds tokens between calls");
        assertEq(
            s.token.balanceOf(address(s.staking)),
            s.staking.totalActiveAssets() + s.staking.totalUnbondingAssets(),
            "staking balance != pools"
        );
        assertEq(
            s.slasher.totalToReporters() + s.slasher.totalToTreasury() + s.slasher.totalBurned(),
            s.slasher.totalSlashed(),
            "slashed != distributed"
        );
    }
}
