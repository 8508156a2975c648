/* SPDX-License-Identifier: Apache-2.0 */
/* Wires the legacy devices to the VM: bus ranges, interrupt lines and the callbacks through which
 * a guest asks for power-off or reset. */
#include <errno.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "cli/config.h"
#include "devices/legacy/acpi-pm.h"
#include "devices/legacy/cmos.h"
#include "devices/legacy/debug-port.h"
#include "devices/legacy/ged.h"
#include "devices/legacy/i8042.h"
#include "devices/legacy/serial.h"
#include "log.h"
#include "memory/guest-memory.h"
#include "vm.h"

static void on_acpi_pm_event(void *opaque, enum acpi_pm_event ev)
{
	struct vm *vm = opaque;
	switch (ev) {
	case ACPI_PM_EVENT_POWEROFF:
		log_info("guest requested power-off (ACPI S5)");
		vm_request_exit(vm, VM_EXIT_POWEROFF);
		break;
	case ACPI_PM_EVENT_RESET:
		log_info("guest requested reset (ACPI reset register)");
		vm_request_exit(vm, VM_EXIT_RESET);
		break;
	case _ACPI_PM_EVENT_MAX:
	case _ACPI_PM_EVENT_INVALID:
		break;
	}
}

static void on_i8042_reset(void *opaque)
{
	struct vm *vm = opaque;
	log_info("guest requested reset (i8042 pulse)");
	vm_request_exit(vm, VM_EXIT_RESET);
}

static int register_pio(struct vm *vm, uint64_t base, uint64_t len, const struct bus_ops *ops, void *dev,
			const char *name)
{
	int r = bus_register(&vm->pio, base, len, ops, dev, name);
	if (r < 0)
		return log_error_errno(r, "cannot place %s at I/O port 0x%llx: %s", name, (unsigned long long)base,
				       strerror(-r));
	return 0;
}

int vm_devices_setup(struct vm *vm)
{
	int r;

	if (vm->cfg->serial.mode != OUTPUT_MODE_OFF) {
		vm->irq_serial = (struct vm_irq){ .vm = vm, .gsi = IRQ_COM1 };
		r = serial_new(vm->serial_fd, vm_irq_set, &vm->irq_serial, &vm->serial);
		if (r < 0)
			return log_error_errno(r, "cannot create the serial port: %s", strerror(-r));
		r = register_pio(vm, PORT_COM1, PORT_COM1_LEN, &serial_ops, vm->serial, "serial");
		if (r < 0)
			return r;
	}

	r = i8042_new(on_i8042_reset, vm, &vm->i8042);
	if (r < 0)
		return log_error_errno(r, "cannot create the i8042 controller: %s", strerror(-r));
	r = register_pio(vm, PORT_I8042_DATA, 1, &i8042_data_ops, vm->i8042, "i8042-data");
	if (r >= 0)
		r = register_pio(vm, PORT_I8042_CMD, 1, &i8042_cmd_ops, vm->i8042, "i8042-cmd");
	if (r < 0)
		return r;

	uint64_t low = guest_memory_low_end(vm->mem);
	r = cmos_new(low, vm->mem->ram_size - low, &vm->cmos);
	if (r < 0)
		return log_error_errno(r, "cannot create the CMOS/RTC: %s", strerror(-r));
	r = register_pio(vm, PORT_CMOS, 2, &cmos_ops, vm->cmos, "cmos");
	if (r < 0)
		return r;

	r = debug_port_new(&vm->debug_port);
	if (r < 0)
		return log_error_errno(r, "cannot create the debug port: %s", strerror(-r));
	r = register_pio(vm, PORT_DEBUG, 1, &debug_port_ops, vm->debug_port, "debug-port");
	if (r < 0)
		return r;

	r = acpi_pm_new(on_acpi_pm_event, vm, &vm->acpi_pm);
	if (r < 0)
		return log_error_errno(r, "cannot create the ACPI power-management registers: %s", strerror(-r));
	r = register_pio(vm, PORT_ACPI_PM, PORT_ACPI_PM_LEN, &acpi_pm_ops, vm->acpi_pm, "acpi-pm");
	if (r < 0)
		return r;

	vm->irq_ged = (struct vm_irq){ .vm = vm, .gsi = IRQ_GED };
	r = ged_new(vm_irq_set, &vm->irq_ged, &vm->ged);
	if (r < 0)
		return log_error_errno(r, "cannot create the ACPI generic event device: %s", strerror(-r));
	r = bus_register(&vm->mmio, LAYOUT_GED_START, GED_REG_LEN, &ged_ops, vm->ged, "ged");
	if (r < 0)
		return log_error_errno(r, "cannot place the ACPI generic event device: %s", strerror(-r));
	return 0;
}

void vm_devices_free(struct vm *vm)
{
	vm->serial = serial_free(vm->serial);
	vm->i8042 = i8042_free(vm->i8042);
	vm->cmos = cmos_free(vm->cmos);
	vm->debug_port = debug_port_free(vm->debug_port);
	vm->acpi_pm = acpi_pm_free(vm->acpi_pm);
	vm->ged = ged_free(vm->ged);
}
