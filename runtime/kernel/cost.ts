/**
 * CPU time the kernel model spends on its operations, in simulated ns. The kernel calls
 * `spend()` with these; device events due meanwhile run first. Values are orders of
 * magnitude of a 2017 x86 server, not measurements.
 *
 * @module
 */
export const COST = {
  /** An uncached MMIO write (posted). */
  mmioWrite: 150,
  /** An uncached MMIO read (round trip). */
  mmioRead: 400,
  /** Zeroing or copying one 4 KiB page. */
  pageCopy: 250,
  /** One iteration of a loop over DeviceIDs (set_dev_entry_bit and the like). */
  devidLoop: 2,
  /** Writing one page-table entry or DTE word. */
  tableWrite: 5,
  /** One call into the DMA API (bookkeeping, IOVA allocation). */
  dmaApiCall: 300,
  /** Handling one interrupt. */
  irq: 1_000,
} as const;
