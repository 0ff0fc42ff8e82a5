/**
 * The DMA path's answer to one access, kept in one reused object per IOMMU: the decision of
 * {@link DmaOutcome} as fields, so deciding an access allocates nothing when it translates or
 * passes through (an abort, which is rare, still builds its outcome object). It is valid until
 * the IOMMU's next access; {@link DmaAnswer.outcome} makes the fresh, immutable
 * {@link DmaOutcome} that callers keep (the bus's records, `translate()`).
 *
 * @module
 */
import type { DmaOutcome } from "./iommu.ts";

type Translated = Extract<DmaOutcome, { kind: "translated" }>;
type Untranslated = Extract<DmaOutcome, { kind: "untranslated" }>;
/** An aborted access's outcome. */
export type AbortOutcome = Extract<DmaOutcome, { kind: "abort" }>;

/** One IOMMU's answer to its latest DMA access (see the module's doc). */
export class DmaAnswer {
  /** What happened to the access. */
  kind: DmaOutcome["kind"] = "abort";
  /** Translated or untranslated: the system physical address. */
  spa = 0;
  /** Translated: the DTE's DomainID. */
  domid = 0;
  /** Translated: where the translation came from. */
  via: Translated["via"] = "iotlb";
  /** Untranslated: why. */
  why: Untranslated["why"] = "iommu-off";
  /** Aborted: the outcome, as built where the access aborted. */
  private aborted: AbortOutcome | undefined;

  /** Records a translation. */
  translated(spa: number, domid: number, via: Translated["via"]): this {
    this.kind = "translated";
    this.spa = spa;
    this.domid = domid;
    this.via = via;
    return this;
  }

  /** Records an access that goes through untranslated. */
  untranslated(spa: number, why: Untranslated["why"]): this {
    this.kind = "untranslated";
    this.spa = spa;
    this.why = why;
    return this;
  }

  /** Records an abort. */
  abort(o: AbortOutcome): this {
    this.kind = "abort";
    this.aborted = o;
    return this;
  }

  /** The answer as a fresh {@link DmaOutcome} (an abort's is the object built for it). */
  outcome(): DmaOutcome {
    if (this.kind === "translated") {
      return { kind: "translated", spa: this.spa, domid: this.domid, via: this.via };
    }
    if (this.kind === "untranslated") return { kind: "untranslated", spa: this.spa, why: this.why };
    return this.aborted!;
  }
}
