// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {Staking} from "../../contracts/staking/Staking.sol";
import {VerinferToken} from "../../contracts/token/VerinferToken.sol";
import {MockSlasher} from "../mocks/MockSlasher.sol";
import {MockAccountObserver, MockOperatorObserver} from "../mocks/MockStakeObservers.sol";

/// @notice Shared fixture: a token, a wired Staking with mock observers and a mock slasher.
abstract contract StakingTestBase is Test {
    uint256 internal constant MIN_STAKE = 100e18;
    uint48 internal constant UNBONDING = 21 days;
    uint48 internal constant ROTATION = 1 days;
    bytes32 internal constant MIN_STAKE_NAME = "minOperatorStake";
    bytes32 internal constant UNBONDING_NAME = "unbondingDelay";
    bytes32 internal constant ROTATION_NAME = "signerRotationDelay";

    VerinferToken internal token;
    Staking internal staking;
    MockAccountObserver internal accountObs;
    MockOperatorObserver internal operatorObs;

    address internal admin = makeAddr("admin");
    address internal slasher = address(new MockSlasher()); // answers checkTiming; pranked as the slasher
    address internal sink = makeAddr("sink");
    address internal op1 = makeAddr("op1");
    address internal op2 = makeAddr("op2");
    address internal signer1 = makeAddr("signer1");
    address internal signer2 = makeAddr("signer2");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        vm.roll(100);
        token = new VerinferToken("Verinfer", "VINF", address(this), 0);
        staking = new Staking(token, admin, MIN_STAKE, UNBONDING, ROTATION);
        accountObs = new MockAccountObserver();
        operatorObs = new MockOperatorObserver();
        vm.prank(admin);
        staking.wire(slasher, address(accountObs), address(operatorObs));
        address[5] memory users = [op1, op2, alice, bob, makeAddr("carol")];
        for (uint256 i; i < users.length; ++i) {
            _fund(users[i], 1_000_000e18);
        }
    }

    function _fund(address who, uint256 amount) internal {
        token.mint(who, amount);
        vm.prank(who);
        token.approve(address(staking), type(uint256).max);
    }

    function _register(address op, address signer, uint256 amount) internal returns (uint256 shares) {
        vm.prank(op);
        shares = staking.registerOperator(signer, amount);
    }

    function _delegate(address who, address op, uint256 amount) internal returns (uint256 shares) {
        vm.prank(who);
        shares = staking.delegate(op, amount);
    }

    function _unstake(address who, address op, uint256 shares) internal returns (uint256 id) {
        vm.prank(who);
        id = staking.requestUnstake(op, shares);
    }

    function _complete(address who, uint256 id) internal returns (uint256 assets) {
        vm.prank(who);
        assets = staking.completeUnstake(id);
    }

    function _slash(address op, uint256 amount) internal returns (uint256) {
        vm.prank(slasher);
        return staking.slash(op, amount, sink);
    }

    function _value(address op, address who) internal view returns (uint256) {
        return staking.previewAssets(op, staking.sharesOf(op, who));
    }

    function _nextBlock() internal {
        vm.roll(block.number + 1);
        vm.warp(block.timestamp + 12);
    }

    function _info(address op) internal view returns (IStaking.OperatorInfo memory) {
        return staking.operatorInfo(op);
    }
}
