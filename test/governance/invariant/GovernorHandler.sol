// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VerinferGovernor} from "../../../contracts/governance/VerinferGovernor.sol";
import {ISlasher} from "../../../contracts/interfaces/ISlasher.sol";
import {VetoSlasherStub} from "../mocks/VetoSlasherStub.sol";
import {Test} from "forge-std/Test.sol";

contract InvTarget {
    uint256 public value;

    function set(uint256 v) external {
        value = v;
    }
}

/// @notice Drives proposals (plain calls and slash vetoes), votes, overrides, queueing, execution, slash
///         requests and slash executions, recording every violation it sees in ghost counters.
contract GovernorHandler is Test {
    VerinferGovernor public governor;
    VetoSlasherStub public slasher;
    InvTarget public target;
    address[] public voters;

    struct Prop {
        address[] ts;
        uint256[] vs;
        bytes[] cs;
        bytes32 dh;
        uint256 id;
    }

    Prop[] internal _props;
    uint256[] public slashIds;
    mapping(uint256 proposalId => mapping(address voter => bool)) public ghostVoted;
    mapping(uint256 slashId => bool) public ghostSlashExecuted;

    uint256 public doubleVotes;
    uint256 public earlyExecutions;
    uint256 public executions;
    uint256 public successfulVotes;

    constructor(VerinferGovernor governor_, VetoSlasherStub slasher_, address[] memory voters_) {
        governor = governor_;
        slasher = slasher_;
        voters = voters_;
        target = new InvTarget();
    }

    function propose(uint256 kind, uint256 seed) external {
        Prop storage p = _props.push();
        p.ts = new address[](1);
        p.vs = new uint256[](1);
        p.cs = new bytes[](1);
        if (kind % 2 == 0 || slashIds.length == 0) {
            p.ts[0] = address(target);
            p.cs[0] = abi.encodeCall(InvTarget.set, (seed));
        } else {
            p.ts[0] = address(slasher);
            p.cs[0] = abi.encodeCall(VetoSlasherStub.vetoSlash, (slashIds[seed % slashIds.length]));
        }
        string memory desc = string(abi.encodePacked("inv", _props.length));
        p.dh = keccak256(bytes(desc));
        vm.prank(voters[0]);
        try governor.propose(p.ts, p.vs, p.cs, desc) returns (uint256 id) {
            p.id = id;
        } catch {
            _props.pop();
        }
    }

    function vote(uint256 v, uint256 pi, uint8 support) external {
        if (_props.length == 0) return;
        address voter = voters[v % voters.length];
        uint256 id = _props[pi % _props.length].id;
        vm.prank(voter);
        try governor.castVote(id, support % 3) {
            if (ghostVoted[id][voter]) ++doubleVotes;
            ghostVoted[id][voter] = true;
            ++successfulVotes;
        } catch {}
    }

    function overrideVote(uint256 v, uint256 pi, uint8 support) external {
        if (_props.length == 0) return;
        address voter = voters[v % voters.length];
        vm.prank(voter);
        try governor.castOverrideVote(_props[pi % _props.length].id, support % 3, "") {} catch {}
    }

    function delegate(uint256 v, uint256 to) external {
        vm.prank(voters[v % voters.length]);
        governor.votes().delegate(voters[to % voters.length]);
    }

    function advance(uint256 blocks, uint256 secs) external {
        vm.roll(block.number + bound(blocks, 1, 30));
        vm.warp(block.timestamp + bound(secs, 1, 1 days));
    }

    function queue(uint256 pi) external {
        if (_props.length == 0) return;
        Prop storage p = _props[pi % _props.length];
        try governor.queue(p.ts, p.vs, p.cs, p.dh) {} catch {}
    }

    function execute(uint256 pi) external {
        if (_props.length == 0) return;
        Prop storage p = _props[pi % _props.length];
        uint256 eta = governor.proposalEta(p.id);
        try governor.execute(p.ts, p.vs, p.cs, p.dh) {
            ++executions;
            // forge-lint: disable-next-line(block-timestamp)
            if (eta == 0 || block.timestamp < eta) ++earlyExecutions;
        } catch {}
    }

    /// @notice A whole proposal life: propose, vote for, end voting, queue, try to execute at a random
    ///         (possibly early) time, then at the eta.
    function lifecycle(uint256 kind, uint256 seed, uint256 earlyBy) external {
        this.propose(kind, seed);
        uint256 pi = _props.length - 1;
        Prop storage p = _props[pi];
        vm.roll(governor.proposalSnapshot(p.id) + 1);
        for (uint256 i; i < voters.length; ++i) {
            this.vote(i, pi, i == 0 ? 0 : 1);
        }
        vm.roll(governor.proposalDeadline(p.id) + 1);
        this.queue(pi);
        uint256 eta = governor.proposalEta(p.id);
        if (eta == 0) return;
        vm.warp(eta - bound(earlyBy, 0, eta - block.timestamp));
        this.execute(pi);
        vm.warp(eta);
        this.execute(pi);
    }

    function requestSlash(uint256 seed) external {
        uint256 id = slasher.requestSlash(
            ISlasher.FaultKind.WrongResult, makeAddr(vm.toString(seed)), bytes32(seed), address(this)
        );
        slashIds.push(id);
    }

    function executeSlash(uint256 si) external {
        if (slashIds.length == 0) return;
        uint256 id = slashIds[si % slashIds.length];
        try slasher.executeSlash(id) {
            ghostSlashExecuted[id] = true;
        } catch {}
    }

    function slashCount() external view returns (uint256) {
        return slashIds.length;
    }
}
