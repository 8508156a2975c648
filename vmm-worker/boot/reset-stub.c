/* SPDX-License-Identifier: Apache-2.0 */
/* Why a reset stub: Linux picks its reboot method at boot. With hardware-reduced ACPI it prefers
 * EFI (efi_reboot_required()); without EFI runtime services that does nothing and Linux falls back
 * to the BIOS method, machine_real_restart(): real mode, far jump to F000:FFF0. There is no BIOS
 * in a direct kernel boot, so the vCPU would execute zeros forever and `reboot` would hang. These
 * bytes, where the BIOS entry point would be, turn that fallback into a reset the VMM sees. */
#include <errno.h>
#include <stdint.h>

#include "arch/x86/layout.h"
#include "memory/guest-memory.h"
#include "reset-stub.h"

int reset_stub_write(struct guest_memory *mem)
{
	/* 16-bit real-mode code. */
	static const uint8_t stub[] = {
		0xba, PORT_ACPI_RESET & 0xff, PORT_ACPI_RESET >> 8, /* mov $PORT_ACPI_RESET, %dx */
		0xb0, ACPI_RESET_VALUE,                             /* mov $ACPI_RESET_VALUE, %al */
		0xee,                                               /* out %al, (%dx) */
		0xb0, 0xfe,                                         /* mov $0xfe, %al: pulse reset */
		0xe6, PORT_I8042_CMD,                               /* out %al, $PORT_I8042_CMD */
		0xf4,                                               /* 1: hlt */
		0xeb, 0xfd,                                         /* jmp 1b */
	};
	_Static_assert(sizeof(stub) <= LAYOUT_RESET_STUB_SIZE, "reset stub too large");
	_Static_assert(LAYOUT_ACPI_START + LAYOUT_ACPI_SIZE <= LAYOUT_RESET_STUB, "ACPI area overlaps the reset stub");
	return guest_memory_write(mem, LAYOUT_RESET_STUB, stub, sizeof(stub));
}
