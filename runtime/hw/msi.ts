/**
 * The MSI address window: an interrupt message is a DMA write to 0xFEE00000–0xFEEFFFFF.
 *
 * @module
 */

/** The MSI address window (0xFEE00000–0xFEEFFFFF). */
export const MSI_WINDOW = { base: 0xfee0_0000, size: 0x10_0000 } as const;
