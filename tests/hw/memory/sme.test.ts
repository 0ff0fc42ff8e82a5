/**
 * Memory encryption (SME) in physical memory: through the C-bit data is encrypted on the way
 * in and decrypted on the way out, per 16-byte block, with the block address as tweak;
 * without the bit the same RAM reads as ciphertext. Property tests use a fixed seed.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import { PhysMem } from "../../../runtime/hw/memory.ts";
import { decryptBlock, encryptBlock } from "../../../runtime/hw/memory/sme.ts";

const SEED = 20180929;
console.log(`sme.test.ts: fast-check seed ${SEED}`);
const C = 2 ** 47;
const KEY = [0x1234_5678, 0x9abc_def0] as const;

function mem(): PhysMem {
  const m = new PhysMem([{ base: 0, size: 2 ** 30, kind: "ram", name: "RAM" }]);
  m.enableEncryption(47, KEY);
  return m;
}

Deno.test("the block cipher: decrypt inverts encrypt; zero is its own ciphertext; one bit changes the whole block", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 4, maxLength: 4 }),
      fc.integer({ min: 0, max: 2 ** 26 - 1 }),
      (words, blk) => {
        const addr = blk * 16, b = Uint32Array.from(words);
        encryptBlock(KEY, addr, b);
        decryptBlock(KEY, addr, b);
        assert.deepEqual([...b], words);
      },
    ),
    { seed: SEED, numRuns: 2000 },
  );
  const z = new Uint32Array(4);
  encryptBlock(KEY, 0x1000, z);
  assert.deepEqual([...z], [0, 0, 0, 0]);
  const a = Uint32Array.of(1, 0, 0, 0), b = Uint32Array.of(3, 0, 0, 0);
  encryptBlock(KEY, 0x1000, a);
  encryptBlock(KEY, 0x1000, b);
  for (let i = 0; i < 4; i++) assert.notEqual(a[i], b[i], `dword ${i} changed`);
  const other = Uint32Array.of(1, 0, 0, 0);
  encryptBlock(KEY, 0x1010, other); // the address is the tweak
  assert.notDeepEqual([...other], [...a]);
});

Deno.test("through the C-bit RAM is encrypted: a read without it gives the ciphertext, with it the data", () => {
  const m = mem(), pa = 0x20_0000;
  const data = Uint32Array.of(0xdead_beef, 1, 2, 3, 4, 5, 6, 7);
  m.writeDwords(pa + C, data);
  const raw = new Uint32Array(8), back = new Uint32Array(8);
  m.readDwords(pa, 8, raw);
  m.readDwords(pa + C, 8, back);
  assert.deepEqual([...back], [...data]);
  assert.notDeepEqual([...raw.subarray(0, 4)], [...data.subarray(0, 4)]);
  const first = raw.slice(0, 4);
  decryptBlock(KEY, pa, first);
  assert.deepEqual([...first], [...data.subarray(0, 4)], "the stored block is E(key, pa, data)");
  // 32-bit accesses, a partial block (read-modify-write), the qword read of a table walk
  m.write32(pa + C + 4, 0x55);
  assert.equal(m.read32(pa + C + 4), 0x55);
  assert.equal(m.read32(pa + C), 0xdead_beef, "the rest of the block kept");
  const q = new Uint32Array(2);
  m.readQword(pa + C + 8, q);
  assert.deepEqual([...q], [2, 3]);
  // a range of a larger source, through the C-bit
  m.writeDwords(pa + C + 0x40, Uint32Array.of(9, 9, 0xa, 0xb, 0xc, 9), 2, 3);
  const part = new Uint32Array(4);
  m.readDwords(pa + C + 0x40, 4, part);
  assert.deepEqual([...part], [0xa, 0xb, 0xc, 0]);
  // written without the bit, read through it: the plaintext is taken for ciphertext
  m.write32(pa + 0x100, 0x1234);
  assert.notEqual(m.read32(pa + 0x100 + C), 0x1234);
  assert.equal(m.read32(pa + 0x100), 0x1234);
});

Deno.test("the C-bit is not an address bit: RAM, DMA target, owner, copy and zero see the RAM beneath it", () => {
  const m = mem(), pa = 0x30_0000;
  assert.equal(m.isRam(pa + C, 4096), true);
  assert.equal(m.dmaTarget(pa + C, 64), "ram");
  assert.equal(m.physical(pa + C), pa);
  assert.equal(m.physical(pa), pa);
  m.setOwner(pa, 4096, { who: "kernel1", what: "slab" });
  assert.equal(m.ownerOf(pa + C).what, "slab");
  m.writeDwords(pa + C, Uint32Array.of(9, 8, 7, 6, 5));
  m.copy(pa + 0x1000 + C, pa + C, 4096); // decrypt at the source, encrypt at the destination
  const out = new Uint32Array(5);
  m.readDwords(pa + 0x1000 + C, 5, out);
  assert.deepEqual([...out], [9, 8, 7, 6, 5]);
  m.copy(pa + 0x2000, pa, 4096); // a plain copy moves ciphertext: wrong tweak at the new place
  m.readDwords(pa + 0x2000 + C, 5, out);
  assert.notDeepEqual([...out], [9, 8, 7, 6, 5]);
  m.zero(pa + C, 4096);
  assert.equal(m.pageIsBlank(pa + C), true, "zero is zero through the C-bit: lines dropped");
  m.readDwords(pa, 5, out);
  assert.deepEqual([...out], [0, 0, 0, 0, 0]);
  m.orStrided(pa + C, 32, 4, 1, 0x10);
  assert.equal(m.read32(pa + C + 32 * 3 + 4), 0x10);
  assert.notEqual(m.read32(pa + 32 * 3 + 4), 0x10);
});

Deno.test("without encryption enabled bit 47 is an address bit (a hole), and the snapshot compares as stored", () => {
  const m = new PhysMem([{ base: 0, size: 2 ** 30, kind: "ram", name: "RAM" }]);
  assert.equal(m.cBit, 0);
  assert.equal(m.isRam(0x1000 + C), false);
  assert.equal(m.read32(0x1000 + C), 0xffff_ffff);
  const e = mem(), pa = 0x40_0000, data = Uint32Array.of(7, 7, 7, 7);
  e.writeDwords(pa + C, data);
  e.beginSnapshot();
  e.writeDwords(pa + C, Uint32Array.of(1, 1, 1, 1));
  const pfn = pa / 4096;
  assert.equal(e.originalPageEquals(pfn, data, 0, 4, true), true, "as the CPU read it");
  assert.equal(e.originalPageEquals(pfn, data, 0, 4), false, "as stored: ciphertext");
});
