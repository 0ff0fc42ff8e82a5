/**
 * AMD Secure Memory Encryption as the memory controller does it: a physical address with the
 * C-bit set (bit 47 on EPYC 7001: CPUID 0x8000001F EBX[5:0]) reaches RAM at the address
 * without the bit, and its data is encrypted on the way in and decrypted on the way out, in
 * 16-byte blocks, with a key the controller makes at power-on (kexec keeps it) and the block's
 * physical address as tweak. Without the C-bit the same RAM reads as what is stored: the
 * ciphertext.
 *
 * The cipher is ours, not AES: four rounds of add-rotate-xor over the block's four dwords,
 * keyed by the power-on key and the block address — invertible, and a change of one bit
 * changes the whole block, which is what the kernel sees of AES-XTS. One liberty, marked:
 * the all-zero block is its own ciphertext at every address. RAM here starts as zeros in both
 * views, the stand-in for a kernel that zeroes (through the C-bit) what it allocates; on real
 * hardware zeroed memory reads as ciphertext through a mapping without the C-bit.
 *
 * @module
 */

/** Bytes per encryption block. */
export const SME_BLOCK_BYTES = 16;

/** A memory controller's key: two dwords made at power-on. */
export type SmeKey = readonly [number, number];

const rotl = (x: number, n: number) => ((x << n) | (x >>> (32 - n))) >>> 0;
const rotr = (x: number, n: number) => ((x >>> n) | (x << (32 - n))) >>> 0;

/** Round constant of round `r` (odd multiples of the golden ratio's fraction). */
const RC = [0x9e37_79b9, 0x3c6e_f372, 0xdaa6_6d2b, 0x78dd_e6e4];

/** The keyed permutation F of one block `b[o..o+3]` at block address `addr`, in place. */
function permute(key: SmeKey, addr: number, b: Uint32Array, o: number): void {
  const tlo = addr >>> 0, thi = Math.floor(addr / 2 ** 32) >>> 0;
  let a = b[o], c = b[o + 1], d = b[o + 2], e = b[o + 3];
  for (let r = 0; r < 4; r++) {
    a = (a ^ key[0] ^ RC[r]) >>> 0;
    c = (c ^ tlo) >>> 0;
    d = (d ^ key[1]) >>> 0;
    e = (e ^ thi ^ RC[r]) >>> 0;
    a = (a + c) >>> 0, e = rotl(e ^ a, 16);
    d = (d + e) >>> 0, c = rotl(c ^ d, 12);
    a = (a + c) >>> 0, e = rotl(e ^ a, 8);
    d = (d + e) >>> 0, c = rotl(c ^ d, 7);
  }
  b[o] = a, b[o + 1] = c, b[o + 2] = d, b[o + 3] = e;
}

/** F's inverse. */
function unpermute(key: SmeKey, addr: number, b: Uint32Array, o: number): void {
  const tlo = addr >>> 0, thi = Math.floor(addr / 2 ** 32) >>> 0;
  let a = b[o], c = b[o + 1], d = b[o + 2], e = b[o + 3];
  for (let r = 3; r >= 0; r--) {
    c = rotr(c, 7) ^ d, d = (d - e) >>> 0;
    e = rotr(e, 8) ^ a, a = (a - c) >>> 0;
    c = rotr(c, 12) ^ d, d = (d - e) >>> 0;
    e = rotr(e, 16) ^ a, a = (a - c) >>> 0;
    a = (a ^ key[0] ^ RC[r]) >>> 0;
    c = (c ^ tlo) >>> 0;
    d = (d ^ key[1]) >>> 0;
    e = (e ^ thi ^ RC[r]) >>> 0;
  }
  b[o] = a >>> 0, b[o + 1] = c >>> 0, b[o + 2] = d >>> 0, b[o + 3] = e >>> 0;
}

const isZero = (b: Uint32Array, o: number) => (b[o] | b[o + 1] | b[o + 2] | b[o + 3]) === 0;
const ZERO = new Uint32Array(4);
const scratch = new Uint32Array(4);

/** F(0) at `addr` into `scratch`. */
function imageOfZero(key: SmeKey, addr: number): Uint32Array {
  scratch.set(ZERO);
  permute(key, addr, scratch, 0);
  return scratch;
}

const same = (b: Uint32Array, o: number, c: Uint32Array) =>
  b[o] === c[0] && b[o + 1] === c[1] && b[o + 2] === c[2] && b[o + 3] === c[3];

/**
 * Encrypts the plaintext block `b[o..o+3]` at block address `addr` in place: F, with the zero
 * block fixed (and F(0) taking the place of the block F sends to zero, so it stays a
 * permutation).
 */
export function encryptBlock(key: SmeKey, addr: number, b: Uint32Array, o = 0): void {
  if (isZero(b, o)) return;
  permute(key, addr, b, o);
  if (isZero(b, o)) b.set(imageOfZero(key, addr), o);
}

/** Decrypts the ciphertext block `b[o..o+3]` at block address `addr` in place. */
export function decryptBlock(key: SmeKey, addr: number, b: Uint32Array, o = 0): void {
  if (isZero(b, o)) return;
  if (same(b, o, imageOfZero(key, addr))) {
    b.fill(0, o, o + 4); // F(0) stands for the block F sends to zero: F⁻¹(0)
    unpermute(key, addr, b, o);
    return;
  }
  unpermute(key, addr, b, o);
}
