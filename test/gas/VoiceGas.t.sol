// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {QuadraticVotes} from "../../contracts/governance/QuadraticVotes.sol";
import {GovernanceBase} from "../governance/GovernanceBase.t.sol";
import {VotesStakingStub} from "../governance/mocks/VotesStakingStub.sol";
import {console} from "forge-std/console.sol";

/// @notice Gas of the QuadraticVotes hooks a staker pays for: a stake change of an attested and of an
///         unattested account, and a delegation, in a world of three issuers (two identities each) and a
///         populated pool. Cold storage (`vm.cool`), plus the intrinsic and calldata gas of a transaction.
contract VoiceGasTest is GovernanceBase {
    address internal attested;
    address internal unattested = makeAddr("unattested");

    function setUp() public override {
        super.setUp();
        address[3] memory issuers = [issuer, makeAddr("issuerB"), makeAddr("issuerC")];
        ids.approveIssuer(issuers[1]);
        ids.approveIssuer(issuers[2]);
        for (uint256 i; i < 6; ++i) {
            address a = makeAddr(string.concat("voter", vm.toString(i)));
            _attestedBy(issuers[i % 3], a, 100 * (i + 1));
            if (i == 0) attested = a;
        }
        _stake(unattested, 500);
        _stake(makeAddr("poolie"), 1000);
        _mine(2);
    }

    function _calldataGas(bytes memory data) internal pure returns (uint256 g) {
        for (uint256 i; i < data.length; ++i) {
            g += data[i] == 0 ? 4 : 16;
        }
    }

    function _measure(address target, address from, bytes memory data, string memory label) internal {
        vm.cool(target);
        vm.cool(address(qv));
        vm.cool(address(ids));
        vm.cool(address(staking));
        vm.prank(from);
        uint256 g0 = gasleft();
        (bool ok,) = target.call(data);
        uint256 used = g0 - gasleft();
        assertTrue(ok);
        console.log(label, 21_000 + _calldataGas(data) + used);
    }

    function test_gas_voice_stakeChange_attested() public {
        _measure(
            address(staking),
            attested,
            abi.encodeCall(VotesStakingStub.setStake, (attested, 150 * TOKEN)),
            "stake change, attested"
        );
    }

    /// @dev An attested identity's voice going to zero and back: the count of voices moves (issue #17).
    function test_gas_voice_stakeChange_attestedToZero() public {
        _measure(
            address(staking),
            attested,
            abi.encodeCall(VotesStakingStub.setStake, (attested, 0)),
            "stake change, attested, to zero"
        );
    }

    function test_gas_voice_stakeChange_attestedFromZero() public {
        staking.setStake(attested, 0);
        _mine(1);
        _measure(
            address(staking),
            attested,
            abi.encodeCall(VotesStakingStub.setStake, (attested, 100 * TOKEN)),
            "stake change, attested, from zero"
        );
    }

    function test_gas_voice_stakeChange_unattested() public {
        _measure(
            address(staking),
            unattested,
            abi.encodeCall(VotesStakingStub.setStake, (unattested, 600 * TOKEN)),
            "stake change, unattested"
        );
    }

    function test_gas_voice_delegate_attested() public {
        _measure(
            address(qv),
            attested,
            abi.encodeCall(QuadraticVotes.delegate, (makeAddr("d"))),
            "delegate, attested"
        );
    }

    function test_gas_voice_delegate_unattested() public {
        _measure(
            address(qv),
            unattested,
            abi.encodeCall(QuadraticVotes.delegate, (makeAddr("d"))),
            "delegate, unattested"
        );
    }
}
