// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Test} from "forge-std/Test.sol";

import {VerinferToken} from "../../contracts/token/VerinferToken.sol";

contract VerinferTokenTest is Test {
    VerinferToken internal token;
    address internal admin = makeAddr("admin");

    function setUp() public {
        token = new VerinferToken("Verinfer", "VINF", admin, 1000e18);
    }

    function test_Constructor_MintsInitialSupplyToAdmin() public view {
        assertEq(token.name(), "Verinfer");
        assertEq(token.symbol(), "VINF");
        assertEq(token.decimals(), 18);
        assertEq(token.totalSupply(), 1000e18);
        assertEq(token.balanceOf(admin), 1000e18);
        assertEq(token.owner(), admin);
    }

    function test_Constructor_ZeroInitialSupply() public {
        VerinferToken t = new VerinferToken("V", "V", admin, 0);
        assertEq(t.totalSupply(), 0);
    }

    function test_Mint_ByAdmin() public {
        vm.prank(admin);
        token.mint(address(this), 5e18);
        assertEq(token.balanceOf(address(this)), 5e18);
        assertEq(token.totalSupply(), 1005e18);
    }

    function test_RevertWhen_MintByNonAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        token.mint(address(this), 1);
    }

    function testFuzz_Permit_SetsAllowance(uint256 value, uint256 pk) public {
        pk = bound(pk, 1, 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140);
        address owner = vm.addr(pk);
        address spender = makeAddr("spender");
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
                ),
                owner,
                spender,
                value,
                token.nonces(owner),
                deadline
            )
        );
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(pk, keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash)));
        token.permit(owner, spender, value, deadline, v, r, s);
        assertEq(token.allowance(owner, spender), value);
        assertEq(token.nonces(owner), 1);
    }
}
