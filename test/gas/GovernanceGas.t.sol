// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VerinferGovernor} from "../../contracts/governance/VerinferGovernor.sol";
import {GovernanceBase} from "../governance/GovernanceBase.t.sol";
import {BaselineGovernor, BaselineToken} from "./baseline/BaselineOZ.sol";
import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {console} from "forge-std/console.sol";

contract GasTarget {
    uint256 public value;

    function set(uint256 v) external {
        value = v;
    }
}

/// @notice Gas of VerinferGovernor (quadratic voice, cap, overrides, late quorum) side by side with a plain
///         OpenZeppelin Governor + ERC20Votes, in the same run. Each number is a whole-transaction estimate:
///         21000 + calldata (4/16 gas per zero/non-zero byte) + execution measured with gasleft() around the
///         call, with the touched contracts cooled (vm.cool) so storage is as cold as in a fresh transaction.
contract GovernanceGasTest is GovernanceBase {
    GasTarget internal gasTarget;
    BaselineToken internal bToken;
    BaselineGovernor internal bGov;
    TimelockController internal bTimelock;
    address[] internal voters;

    uint256 internal ourId;
    uint256 internal baseId;

    function setUp() public override {
        super.setUp();
        gasTarget = new GasTarget();
        bToken = new BaselineToken();
        bTimelock = new TimelockController(MIN_DELAY, new address[](0), new address[](0), address(this));
        bGov = new BaselineGovernor(bToken, bTimelock);
        bTimelock.grantRole(bTimelock.PROPOSER_ROLE(), address(bGov));
        bTimelock.grantRole(bTimelock.EXECUTOR_ROLE(), address(0));
        for (uint256 i; i < 12; ++i) {
            address v = makeAddr(string(abi.encodePacked("voter", i)));
            voters.push(v);
            _attested(v, 100);
            bToken.mint(v, 100 * TOKEN);
            vm.prank(v);
            bToken.delegate(v);
        }
        _mine(2);
        (address[] memory t, uint256[] memory vs, bytes[] memory c) =
            _singleAction(address(gasTarget), abi.encodeCall(GasTarget.set, (1)));
        vm.startPrank(voters[0]);
        ourId = governor.propose(t, vs, c, "p");
        baseId = bGov.propose(t, vs, c, "p");
        vm.stopPrank();
        _mine(2);
    }

    function _calldataGas(bytes memory data) internal pure returns (uint256 g) {
        for (uint256 i; i < data.length; ++i) {
            g += data[i] == 0 ? 4 : 16;
        }
    }

    function _measure(address target, address from, bytes memory data, string memory label)
        internal
        returns (uint256 total)
    {
        vm.cool(target);
        vm.cool(address(qv));
        vm.cool(address(bToken));
        vm.cool(address(timelock));
        vm.cool(address(bTimelock));
        vm.prank(from);
        uint256 g0 = gasleft();
        (bool ok, bytes memory ret) = target.call(data);
        uint256 used = g0 - gasleft();
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        total = 21_000 + _calldataGas(data) + used;
        console.log(label, total);
    }

    function _castVote(address gov, uint256 id, address voter, string memory label)
        internal
        returns (uint256)
    {
        return _measure(gov, voter, abi.encodeCall(Governor.castVote, (id, 1)), label);
    }

    function test_gas_castVote_first() public {
        _castVote(address(governor), ourId, voters[1], "castVote_first (verinfer)");
    }

    function test_gas_castVote_first_baselineOZ() public {
        _castVote(address(bGov), baseId, voters[1], "castVote_first (OZ baseline)");
    }

    function test_gas_castVote_later() public {
        vm.prank(voters[2]);
        governor.castVote(ourId, 1);
        _castVote(address(governor), ourId, voters[1], "castVote_later (verinfer)");
    }

    function test_gas_castVote_later_baselineOZ() public {
        vm.prank(voters[2]);
        bGov.castVote(baseId, 1);
        _castVote(address(bGov), baseId, voters[1], "castVote_later (OZ baseline)");
    }

    /// @dev A governor with the residual rule on (K = 10) and a proposal on it, voting open; `whale` (400
    ///      tokens, attested) and `pooled` (100 tokens, unattested) hold voice at its snapshot.
    function _residualK10() internal returns (VerinferGovernor g, uint256 id, address whale, address pooled) {
        whale = makeAddr("whale");
        pooled = makeAddr("pooled");
        _attested(whale, 400);
        // 20 voices that stay home: 34 in all, so the full K = 10 applies (min(K, voices / 3))
        for (uint256 i; i < 20; ++i) {
            _attested(makeAddr(string.concat("home", vm.toString(i))), 1);
        }
        _stake(pooled, 100);
        g = new VerinferGovernor(qv, timelock, address(ids), _governorConfig(10));
        _mine(3);
        (address[] memory t, uint256[] memory vs, bytes[] memory c) =
            _singleAction(address(gasTarget), abi.encodeCall(GasTarget.set, (2)));
        vm.prank(voters[0]);
        id = g.propose(t, vs, c, "r");
        _mine(2);
    }

    function test_gas_castVote_first_residualK10() public {
        (VerinferGovernor g, uint256 id,,) = _residualK10();
        _castVote(address(g), id, voters[1], "castVote_first (residual K=10)");
    }

    /// @dev The worst case of the insertion: ten voices kept, a larger one moves each down one place.
    function test_gas_castVote_insertIntoFullTopK_residualK10() public {
        (VerinferGovernor g, uint256 id, address whale,) = _residualK10();
        for (uint256 i = 1; i < 11; ++i) {
            vm.prank(voters[i]);
            g.castVote(id, 1);
        }
        _castVote(address(g), id, whale, "castVote_insert_full (residual K=10)");
    }

    /// @dev The common case: ten voices kept, a smaller or equal one reads the smallest entry only.
    function test_gas_castVote_belowFullTopK_residualK10() public {
        (VerinferGovernor g, uint256 id,,) = _residualK10();
        for (uint256 i = 1; i < 11; ++i) {
            vm.prank(voters[i]);
            g.castVote(id, 1);
        }
        _castVote(address(g), id, voters[11], "castVote_below_full (residual K=10)");
    }

    function test_gas_castVote_pooled_residualK10() public {
        (VerinferGovernor g, uint256 id,, address pooled) = _residualK10();
        vm.prank(voters[1]);
        g.castVote(id, 1);
        _castVote(address(g), id, pooled, "castVote_pooled (residual K=10)");
    }

    function _tenActions() internal view returns (address[] memory t, uint256[] memory v, bytes[] memory c) {
        t = new address[](10);
        v = new uint256[](10);
        c = new bytes[](10);
        for (uint256 i; i < 10; ++i) {
            t[i] = address(gasTarget);
            c[i] = abi.encodeCall(GasTarget.set, (i + 100));
        }
    }

    function test_gas_propose10() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _tenActions();
        // target was <= 120k; the plain OZ Governor itself costs ~125k for the same calldata (see docs)
        _measure(
            address(governor),
            voters[3],
            abi.encodeCall(Governor.propose, (t, v, c, "ten")),
            "propose10 (verinfer)"
        );
    }

    function test_gas_propose10_baselineOZ() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _tenActions();
        _measure(
            address(bGov),
            voters[3],
            abi.encodeCall(Governor.propose, (t, v, c, "ten")),
            "propose10 (OZ baseline)"
        );
    }

    function _passOurs() internal returns (address[] memory t, uint256[] memory vs, bytes[] memory c) {
        for (uint256 i; i < 3; ++i) {
            vm.prank(voters[i]);
            governor.castVote(ourId, 1);
        }
        vm.roll(governor.proposalDeadline(ourId) + 1);
        (t, vs, c) = _singleAction(address(gasTarget), abi.encodeCall(GasTarget.set, (1)));
    }

    function test_gas_queue() public {
        (address[] memory t, uint256[] memory vs, bytes[] memory c) = _passOurs();
        _measure(
            address(governor),
            voters[5],
            abi.encodeCall(Governor.queue, (t, vs, c, keccak256("p"))),
            "queue (verinfer)"
        );
    }

    function test_gas_execute() public {
        (address[] memory t, uint256[] memory vs, bytes[] memory c) = _passOurs();
        governor.queue(t, vs, c, keccak256("p"));
        vm.warp(block.timestamp + MIN_DELAY);
        _measure(
            address(governor),
            voters[5],
            abi.encodeCall(Governor.execute, (t, vs, c, keccak256("p"))),
            "execute (verinfer)"
        );
        assertEq(gasTarget.value(), 1);
    }
}
