// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {QuadraticVotes} from "../../contracts/governance/QuadraticVotes.sol";
import {GovernanceBase} from "./GovernanceBase.t.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

contract QuadraticVotesTest is GovernanceBase {
    address internal alice = makeAddr("alice");
    address internal alice2 = makeAddr("alice2");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal dave = makeAddr("dave");

    function test_UnattestedAccountAloneHasSqrtOfItsStake() public {
        _stake(alice, 100);
        assertEq(qv.getVotes(alice), _sqrtTokens(100));
        assertEq(qv.totalVoice(), _sqrtTokens(100));
        assertEq(qv.delegates(alice), alice);
    }

    function test_UnattestedStakeSharesOnePooledSqrt() public {
        _stake(alice, 100);
        _stake(bob, 300);
        uint256 pool = _sqrtTokens(400);
        assertEq(qv.totalVoice(), pool);
        assertEq(qv.getVotes(alice), (100 * TOKEN) * pool / (400 * TOKEN));
        assertEq(qv.getVotes(bob), (300 * TOKEN) * pool / (400 * TOKEN));
    }

    function test_IdentityVoiceIsSqrtOfSummedStakeOfItsAccounts() public {
        uint256 id = _attested(alice, 100);
        _link(alice2, id);
        _stake(alice2, 300);
        assertEq(qv.identityStake(id), 400 * TOKEN);
        assertEq(qv.getVotes(alice), _sqrtTokens(400)); // alice2 inherits alice's identity delegatee
        assertEq(qv.delegates(alice2), alice);
        assertEq(qv.totalVoice(), _sqrtTokens(400));
    }

    function test_SplittingAcrossOwnAccountsGainsNothing() public {
        uint256 id = _attested(alice, 400);
        uint256 whole = qv.getVotes(alice);
        _stake(alice, 100);
        _link(alice2, id);
        _stake(alice2, 300);
        assertEq(qv.getVotes(alice), whole);
    }

    function test_DelegateReceivesSumOfSqrtsNotSqrtOfSum() public {
        _attested(alice, 100);
        _attested(bob, 400);
        vm.prank(alice);
        qv.delegate(carol);
        vm.prank(bob);
        qv.delegate(carol);
        assertEq(qv.getVotes(carol), _sqrtTokens(100) + _sqrtTokens(400));
        assertEq(qv.getVotes(alice), 0);
        assertEq(qv.totalVoice(), _sqrtTokens(100) + _sqrtTokens(400));
    }

    function test_AnyLinkedAccountMovesTheIdentityDelegation() public {
        uint256 id = _attested(alice, 100);
        _link(alice2, id);
        vm.expectEmit(true, true, true, true, address(qv));
        emit IVotes.DelegateChanged(alice2, alice, carol);
        vm.prank(alice2);
        qv.delegate(carol);
        assertEq(qv.delegates(alice), carol);
        assertEq(qv.getVotes(carol), _sqrtTokens(100));
    }

    function test_LinkingMovesStakeFromPoolToIdentity() public {
        _stake(alice, 100);
        _stake(bob, 300);
        uint256 id = _newIdentity();
        _link(alice, id);
        (uint256 a, uint256 su) = qv.totalComponents();
        assertEq(a, _sqrtTokens(100));
        assertEq(su, 300 * TOKEN);
        assertEq(qv.getVotes(alice), _sqrtTokens(100));
        assertEq(qv.getVotes(bob), _sqrtTokens(300));
        assertEq(qv.totalVoice(), _sqrtTokens(100) + _sqrtTokens(300));
    }

    function test_UnlinkingReturnsStakeToPoolAndOwnDelegatee() public {
        uint256 id = _attested(alice, 100);
        _link(alice2, id);
        _stake(alice2, 300);
        vm.prank(alice2);
        ids.unlink(alice2);
        assertEq(qv.identityOf(alice2), 0);
        assertEq(qv.getVotes(alice), _sqrtTokens(100));
        assertEq(qv.getVotes(alice2), _sqrtTokens(300));
        assertEq(qv.delegates(alice2), alice2);
    }

    function test_UnattestedDelegationMovesPoolShare() public {
        _stake(alice, 100);
        _stake(bob, 300);
        vm.prank(alice);
        qv.delegate(bob);
        assertEq(qv.getVotes(alice), 0);
        assertEq(qv.getVotes(bob), _sqrtTokens(400));
        (, uint256 u) = qv.delegateComponents(bob);
        assertEq(u, 400 * TOKEN);
    }

    function test_StakeChangeAfterDelegationFollowsDelegatee() public {
        _attested(alice, 100);
        vm.prank(alice);
        qv.delegate(carol);
        _stake(alice, 900);
        assertEq(qv.getVotes(carol), _sqrtTokens(900));
    }

    function test_PastVotesAreCheckpointedPerBlock() public {
        _attested(alice, 100);
        uint256 b1 = block.number;
        _mine(1);
        _stake(alice, 400);
        uint256 b2 = block.number;
        _mine(1);
        assertEq(qv.getPastVotes(alice, b1), _sqrtTokens(100));
        assertEq(qv.getPastVotes(alice, b2), _sqrtTokens(400));
        assertEq(qv.getPastTotalSupply(b1), _sqrtTokens(100));
        assertEq(qv.getPastIdentity(alice, b1), 1);
        (uint256 v, uint256 t) = qv.getPastVotesAndTotal(alice, b2);
        assertEq(v, _sqrtTokens(400));
        assertEq(t, _sqrtTokens(400));
    }

    function test_GetPastHolderAttestedAndUnattested() public {
        uint256 id = _attested(alice, 100);
        _stake(bob, 300);
        _stake(carol, 100);
        vm.prank(bob);
        qv.delegate(dave);
        _mine(1);
        (bytes32 h, address d, uint256 v) = qv.getPastHolder(alice, block.number - 1);
        assertEq(h, bytes32(id | (uint256(1) << 255)));
        assertEq(d, alice);
        assertEq(v, _sqrtTokens(100));
        (h, d, v) = qv.getPastHolder(bob, block.number - 1);
        assertEq(h, bytes32(uint256(uint160(bob))));
        assertEq(d, dave);
        assertEq(v, (300 * TOKEN) * _sqrtTokens(400) / (400 * TOKEN));
    }

    function test_RevertWhen_StakeReportNotFromStaking() public {
        vm.expectRevert(abi.encodeWithSelector(QuadraticVotes.UnauthorizedCaller.selector, address(this)));
        qv.onAccountStakeChanged(alice, 0, 1);
    }

    function test_RevertWhen_IdentityReportNotFromRegistry() public {
        vm.expectRevert(abi.encodeWithSelector(QuadraticVotes.UnauthorizedCaller.selector, address(this)));
        qv.onIdentityChanged(alice, 0, 1);
    }

    function test_RevertWhen_DelegateToZero() public {
        vm.prank(alice);
        vm.expectRevert(QuadraticVotes.ZeroAddress.selector);
        qv.delegate(address(0));
    }

    function test_RevertWhen_FutureLookup() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                QuadraticVotes.ERC5805FutureLookup.selector, block.number, uint48(block.number)
            )
        );
        qv.getPastVotes(alice, block.number);
        vm.expectRevert(
            abi.encodeWithSelector(
                QuadraticVotes.ERC5805FutureLookup.selector, block.number, uint48(block.number)
            )
        );
        qv.getPastTotalSupply(block.number);
    }

    function test_ClockIsBlockNumber() public view {
        assertEq(qv.clock(), block.number);
        assertEq(qv.CLOCK_MODE(), "mode=blocknumber&from=default");
    }

    function test_DelegateBySig() public {
        (address signer, uint256 pk) = makeAddrAndKey("signer");
        _stake(signer, 100);
        uint256 expiry = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Delegation(address delegatee,uint256 nonce,uint256 expiry)"),
                carol,
                uint256(0),
                expiry
            )
        );
        (, string memory name, string memory version, uint256 chainId, address vc,,) = qv.eip712Domain();
        bytes32 domain = keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256(bytes(name)),
                keccak256(bytes(version)),
                chainId,
                vc
            )
        );
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(pk, keccak256(abi.encodePacked("\x19\x01", domain, structHash)));
        qv.delegateBySig(carol, 0, expiry, v, r, s);
        assertEq(qv.delegates(signer), carol);
        assertEq(qv.getVotes(carol), _sqrtTokens(100));
        // replay fails
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, signer, 1));
        qv.delegateBySig(carol, 0, expiry, v, r, s);
        vm.warp(expiry + 1);
        vm.expectRevert(abi.encodeWithSelector(IVotes.VotesExpiredSignature.selector, expiry));
        qv.delegateBySig(carol, 1, expiry, v, r, s);
    }

    function test_RedelegateToSameDelegateIsNoop() public {
        _attested(alice, 100);
        vm.prank(alice);
        qv.delegate(alice);
        assertEq(qv.getVotes(alice), _sqrtTokens(100));
        _stake(bob, 100);
        vm.prank(bob);
        qv.delegate(bob);
        assertEq(qv.getVotes(bob), _sqrtTokens(100));
    }

    /// @notice Delegating never loses power: the sum of delegate votes equals the sum of holders' voices
    ///         (up to pool rounding) whatever the delegation pattern.
    function testFuzz_DelegationNeverLosesPower(uint256[6] memory stakes, uint8 pattern) public {
        address[6] memory accts = [alice, alice2, bob, carol, dave, makeAddr("eve")];
        for (uint256 i; i < 6; ++i) {
            stakes[i] = bound(stakes[i], 0, 1e9);
            if (i % 2 == 0) _attested(accts[i], stakes[i]);
            else _stake(accts[i], stakes[i]);
        }
        for (uint256 i; i < 6; ++i) {
            if ((pattern >> i) & 1 == 1) {
                vm.prank(accts[i]);
                qv.delegate(accts[(i + 1) % 6]);
            }
        }
        uint256 sum;
        for (uint256 i; i < 6; ++i) {
            sum += qv.getVotes(accts[i]);
        }
        uint256 total = qv.totalVoice();
        assertLe(sum, total);
        assertGe(sum + 6, total); // pool rounding: at most one wei of voice per unattested delegate
    }
}
