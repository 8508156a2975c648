/* SPDX-License-Identifier: Apache-2.0 */
/* Every guest physical address and fixed I/O port the VMM uses, in one place.
 *
 *   0x0000_0000  real-mode IVT / BDA (RAM)
 *   0x0000_0500  boot GDT, then IDT
 *   0x0000_6000  PVH hvm_start_info, its memory map and module list
 *   0x0000_7000  Linux zero page (struct boot_params)
 *   0x0000_8ff0  initial stack (grows down)
 *   0x0000_9000  identity-mapped page tables for the 64-bit boot protocol (PML4, PDPT, 4 x PD)
 *   0x0002_0000  kernel command line
 *   0x0009_fc00  EBDA: start of the reserved hole below 1 MiB
 *   0x000e_0000  ACPI tables (RSDP first), inside the BIOS area Linux scans
 *   0x0010_0000  bzImage protected-mode kernel; RAM continues up to the 32-bit MMIO gap
 *   0xc000_0000  32-bit MMIO gap: PCI windows, ECAM, GED, IOAPIC, LAPIC
 *   0x1_0000_0000 RAM above 4 GiB (whatever did not fit below the gap)
 *
 * Also included by the assembler test payloads (tests/payloads): keep the port and bit constants free of
 * C-only suffixes.
 */
#pragma once

/* LAYOUT_CONST(0x1000, ULL): the suffix in C, the bare number for the assembler. */
#ifdef __ASSEMBLER__
#define LAYOUT_CONST(x, suffix) x
#else
#define LAYOUT_CONST(x, suffix) (x##suffix)
#endif

#ifndef __ASSEMBLER__
#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)
#endif

/* Low memory */
#define LAYOUT_BOOT_GDT 0x500ULL
#define LAYOUT_BOOT_IDT 0x520ULL
#define LAYOUT_PVH_INFO 0x6000ULL
#define LAYOUT_PVH_MEMMAP 0x6100ULL /* up to 128 entries of 24 bytes */
#define LAYOUT_PVH_MODLIST 0x6e00ULL
#define LAYOUT_ZERO_PAGE 0x7000ULL
#define LAYOUT_BOOT_STACK 0x8ff0ULL
#define LAYOUT_PML4 0x9000ULL
#define LAYOUT_PDPT 0xa000ULL
#define LAYOUT_PD 0xb000ULL /* 4 pages: identity map of the first 4 GiB with 2 MiB pages */
#define LAYOUT_CMDLINE 0x20000ULL
#define LAYOUT_CMDLINE_MAX 0x10000ULL /* 64 KiB including the NUL */
#define LAYOUT_EBDA_START 0x9fc00ULL
#define LAYOUT_ACPI_START 0xe0000ULL
#define LAYOUT_ACPI_SIZE 0x20000ULL /* up to 1 MiB */
#define LAYOUT_HIGH_RAM_START 0x100000ULL /* 1 MiB: first byte of RAM above the legacy hole */
#define LAYOUT_KERNEL_START 0x100000ULL

/* The 32-bit MMIO gap below 4 GiB and the devices in it */
#define LAYOUT_MMIO_GAP_START 0xc0000000ULL
#define LAYOUT_MMIO_GAP_END 0x100000000ULL
#define LAYOUT_PCI_MMIO32_START 0xc0000000ULL
#define LAYOUT_PCI_MMIO32_SIZE 0x20000000ULL /* 512 MiB */
#define LAYOUT_PCI_ECAM_START 0xe0000000ULL
#define LAYOUT_PCI_ECAM_SIZE 0x10000000ULL /* 256 buses */
#define LAYOUT_GED_START LAYOUT_CONST(0xfeb00000, ULL) /* also polled by test payloads */
#define LAYOUT_GED_SIZE 0x1000ULL
#define LAYOUT_IOAPIC_START 0xfec00000ULL
#define LAYOUT_IOAPIC_SIZE 0x1000ULL
#define LAYOUT_TSS_START 0xfffbd000ULL /* 3 pages KVM_SET_TSS_ADDR needs, inside the gap */
#define LAYOUT_IDENTITY_MAP 0xfffbc000ULL /* 1 page KVM_SET_IDENTITY_MAP_ADDR needs */
#define LAYOUT_LAPIC_START 0xfee00000ULL
#define LAYOUT_RAM_64BIT_START 0x100000000ULL

/* Legacy I/O ports */
#define PORT_DEBUG 0x80
#define PORT_I8042_DATA 0x60
#define PORT_I8042_CMD 0x64
#define PORT_CMOS 0x70 /* index 0x70, data 0x71 */
#define PORT_COM1 0x3f8
#define PORT_COM1_LEN 8
#define PORT_ACPI_PM 0x600 /* sleep control, sleep status, reset register */
#define PORT_ACPI_SLEEP_CONTROL (PORT_ACPI_PM + 0)
#define PORT_ACPI_SLEEP_STATUS (PORT_ACPI_PM + 1)
#define PORT_ACPI_RESET (PORT_ACPI_PM + 2)
#define PORT_ACPI_PM_LEN 4
#define ACPI_RESET_VALUE 0x1
#define PORT_PCI_CONFIG_ADDRESS 0xcf8
#define PORT_PCI_CONFIG_DATA 0xcfc

/* Interrupts (GSIs on the in-kernel IOAPIC) */
#define IRQ_COM1 4
#define IRQ_GED 9 /* ACPI Generic Event Device: power button and, later, hot-plug */
#define IOAPIC_NUM_PINS 24

/* Register ABI of the ACPI Generic Event Device at LAYOUT_GED_START, shared by the device model
 * and the DSDT's _EVT method: one 32-bit read-to-clear register holding pending event bits. */
#define GED_REG_EVENT 0x0
#define GED_REG_LEN 4
#define GED_EVENT_POWER_BUTTON (LAYOUT_CONST(1, u) << 0)

/* ACPI sleep control register bits (ACPI 6.x, 4.8.3.7) and the S5 type our DSDT's \_S5 names. */
#define ACPI_SLEEP_CONTROL_SLP_EN (1 << 5)
#define ACPI_SLEEP_CONTROL_SLP_TYP_SHIFT 2
#define ACPI_SLEEP_CONTROL_SLP_TYP_MASK 0x7
#define ACPI_SLEEP_STATUS_WAK_STS (1 << 7)
#define ACPI_S5_SLP_TYP 5
