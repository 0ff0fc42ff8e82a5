/**
 * The iommu core (drivers/iommu/iommu.c), reduced: when the AMD driver registers its ops
 * for the PCI bus, every device gets an IOMMU group with a default domain (DMA, or
 * identity with iommu=pt) and is attached to it at once through __iommu_attach_device —
 * the point where the series' is_attach_deferred call-back can step in.
 *
 * @module
 */
import {
  attach_device,
  detach_device,
  dma_ops_domain_alloc,
  find_dev_data,
  identity_domain_alloc,
} from "./amd_iommu/domain.ts";
import type { ProtectionDomain } from "./amd_iommu/types.ts";
import type { Kernel } from "./kernel.ts";
import type { PciDev } from "./pci.ts";

/** struct iommu_group. */
export interface IommuGroup {
  /** The group's number, in creation order. */
  id: number;
  /** Its devices (several when functions share a group: multifunction without ACS). */
  devices: PciDev[];
  /** The group's domain: its default domain until a driver attaches the group elsewhere. */
  domain: ProtectionDomain;
}

/** The iommu core of one kernel. */
export class IommuCore {
  /** The IOMMU groups, in creation order. */
  readonly groups: IommuGroup[] = [];
  /** Attaches skipped by the __iommu_attach_device hook (deferred). */
  deferredAttaches = 0;

  /** The iommu core of kernel `k`, no groups yet. */
  constructor(private readonly k: Kernel) {}

  /** amd_iommu_init_api(): bus_set_iommu(&pci_bus_type, &amd_iommu_ops). */
  amd_iommu_init_api(): void {
    for (const dev of this.k.pci) this.amd_iommu_add_device(dev);
  }

  /** amd_iommu_add_device(). */
  amd_iommu_add_device(dev: PciDev): void {
    const d = this.k.amd;
    if (!d.check_device(dev.devid)) return;
    const devData = find_dev_data(d, dev.devid); // iommu_init_device()
    dev.iommu = devData;
    const group = this.iommu_group_get_for_dev(dev);
    if (!group) return;
    if (group.domain.type !== "identity") dev.dmaOps = d.dma_ops;
  }

  /** iommu_group_get_for_dev(): a group per device, or the partner's group (no ACS). */
  private iommu_group_get_for_dev(dev: PciDev): IommuGroup | undefined {
    const partner = dev.sharesGroupWith !== undefined
      ? this.groups.find((g) => g.devices.some((x) => x.devid === dev.sharesGroupWith))
      : undefined;
    let group = partner;
    if (!group) {
      const d = this.k.amd;
      const dom = d.passthrough ? identity_domain_alloc(d) : dma_ops_domain_alloc(d);
      if (!dom) return undefined;
      group = { id: this.groups.length, devices: [], domain: dom };
      this.groups.push(group);
    }
    dev.groupId = group.id;
    this.iommu_group_add_device(group, dev);
    return group;
  }

  /** iommu_group_add_device(): joins the group and attaches to its domain. */
  private iommu_group_add_device(group: IommuGroup, dev: PciDev): void {
    group.devices.push(dev);
    this.__iommu_attach_device(group.domain, dev);
  }

  /** __iommu_attach_device(): ops->attach_dev, unless the hook defers it. */
  __iommu_attach_device(domain: ProtectionDomain, dev: PciDev): void {
    if (this.k.hooks.bail("iommu.__iommu_attach_device", { k: this.k, dev, domain })) {
      this.deferredAttaches++;
      return;
    }
    this.amd_iommu_attach_device(domain, dev);
  }

  /** amd_iommu_attach_device(): detach from the old domain, attach_device to the new one. */
  amd_iommu_attach_device(domain: ProtectionDomain, dev: PciDev): void {
    const dd = find_dev_data(this.k.amd, dev.devid);
    if (dd.domain) detach_device(this.k.amd, dev);
    attach_device(this.k.amd, dev, domain);
  }

  /**
   * iommu_attach_group(): attaches every device of `dev`'s group to `domain` (each through
   * __iommu_attach_device, which may defer it) and makes it the group's domain.
   */
  iommu_attach_group(domain: ProtectionDomain, dev: PciDev): void {
    const group = dev.groupId === undefined ? undefined : this.groups[dev.groupId];
    if (!group) return;
    for (const member of group.devices) this.__iommu_attach_device(domain, member);
    group.domain = domain;
  }

  /** iommu_get_domain_for_dev(). */
  iommu_get_domain_for_dev(dev: PciDev): ProtectionDomain | undefined {
    return dev.groupId === undefined ? undefined : this.groups[dev.groupId]?.domain;
  }
}
